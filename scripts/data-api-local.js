// The RDS Data API over the local PostgreSQL server, for alexdb's tests: node scripts/data-api-local.js PORT.
//
// data-api-local (npm) implements the calls; three of its answers differ from the real service's, and are
// made to match it here so the driver sees what it sees in AWS:
// - timestamps: it formats them through a JavaScript Date (milliseconds, ISO with Z); the service returns
//   PostgreSQL's text with microseconds. They are passed on as PostgreSQL's text; so is JSON, which it
//   would read into JavaScript numbers (500.10 comes back as 500.1).
// - numberOfRecordsUpdated: it counts UPDATEs only; the service counts INSERT, UPDATE and DELETE.
// - records: it sends an empty list for statements that return no rows; the service sends none.
// - longValue: it casts to int (32 bits); the service's long is 64 bits (epoch milliseconds overflow int).
// - blobValue: it passes the base64 text on as the bytes and answers bytea as a JSON-dumped Buffer; the
//   service takes and gives base64 of the bytes.
// - errors: the service ends PostgreSQL's message with its position and SQLSTATE, which the driver reads to
//   raise the matching DB-API error (a unique violation is an IntegrityError).
const pg = require("pg");
for (const oid of [114, 1082, 1114, 1184, 1700, 3802]) pg.types.setTypeParser(oid, (text) => text);
pg.types.setTypeParser(17, (text) => Buffer.from(text.slice(2), "hex").toString("base64"));  // bytea: \x<hex>
pg.types.builtins.TIMESTAMP = -1114;  // its timestamp branch reformats: fall through to plain text
pg.types.builtins.TIMESTAMPTZ = -1184;

// Requests here may be large (a 1 MiB chat message escaped as JSON, a batch of parameter sets);
// body-parser's default is 100 kB.
const bodyParser = require("body-parser");
const json = bodyParser.json;  // a getter on the module: replaced with defineProperty, not assignment
Object.defineProperty(bodyParser, "json", { value: (options = {}) => json({ limit: "64mb", ...options }) });

const { PostgresClient } = require("data-api-local/lib/PostgresClient");
const createError = require("http-errors");
PostgresClient.prototype.query = async function ({ query, values }) {
  try {
    return await this.client.query({ text: query, values, rowMode: "array" });
  } catch (error) {
    throw createError(400, `${error.severity}: ${error.message}\n  Position: ${error.position || 0}; SQLState: ${error.code}`);
  }
};
const { transformQuery } = require("data-api-local/lib/utils/transformQuery");
const { transformResult } = require("data-api-local/lib/utils/transformResult");
// A blob parameter reaches PostgreSQL as bytea's hex text (what the emulator sends is value.toString()).
const hexBlob = (p) => ("blobValue" in (p.value || {}) ? { ...p, value: { blobValue: {
  toString: () => "\\x" + Buffer.from(p.value.blobValue, "base64").toString("hex") } } } : p);
function statement(sql, parameters) {
  const { query, values } = transformQuery(sql, (parameters || []).map(hexBlob));
  return { query: query.replace(/(\$\d+)::int\b/g, "$1::bigint"), values };
}
// The driver sends at most 1,000 parameter sets per BatchExecuteStatement (it pages its input): held here.
PostgresClient.prototype.batchExecuteStatement = async function ({ sql, parameterSets = [] }) {
  if (parameterSets.length > 1000) throw createError(400, `${parameterSets.length} parameter sets in one batch`);
  for (const parameters of parameterSets) await this.query(statement(sql, parameters));
  return { updateResults: parameterSets.map(() => ({ generatedFields: [] })) };
};
PostgresClient.prototype.executeStatement = async function ({ sql, parameters, includeResultMetadata = false }) {
  const prepared = statement(sql, parameters);
  if (process.env.DATA_API_LOCAL_DEBUG) console.log("[query]", prepared.query, JSON.stringify(parameters));
  const result = await this.query(prepared);
  const rows = Array.isArray(result.fields) && result.fields.length > 0;
  return {
    columnMetadata: includeResultMetadata && rows ? await this.buildColumnMetadata(result.fields) : undefined,
    records: rows ? transformResult(result) : undefined,
    numberOfRecordsUpdated: ["INSERT", "UPDATE", "DELETE"].includes(result.command) ? result.rowCount : 0,
  };
};

const { dataApiLocal } = require("data-api-local");
dataApiLocal({
  server: { hostname: "127.0.0.1", port: Number(process.argv[2]) },
  database: { engine: "postgresql", host: "127.0.0.1", port: 5432, user: "postgres", password: "" },
}).catch((error) => { console.error(error); process.exit(1); });
