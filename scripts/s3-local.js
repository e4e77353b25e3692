// A local Amazon S3 for alexdb's tests (the tick archive): node scripts/s3-local.js PORT DIRECTORY BUCKET.
//
// s3rver (npm) knows one access key, S3RVER; the tests sign with the key of their environment
// (AWS_ACCESS_KEY_ID, "local" by default, which DynamoDB Local and kinesalite take as well), so that key is
// registered on its account. The bucket is created at start, as Terraform creates it in AWS.
const S3rver = require("s3rver");
const AWSAccount = require("s3rver/lib/models/account");

const [port, directory, bucket] = process.argv.slice(2);
AWSAccount.DUMMY_ACCOUNT.createKeyPair(process.env.AWS_ACCESS_KEY_ID || "local",
                                       process.env.AWS_SECRET_ACCESS_KEY || "local");
new S3rver({
  address: "127.0.0.1",
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
}).run().catch((error) => {
  console.error(error);
  process.exit(1);
});
