# The speed layer's Kinesis feed: ticks arrive on a stream and alexdb.speed.kinesis.handler ingests them.
# Created only when var.ingest_package names the Lambda zip (scripts/build-lambda makes it).
#
# A malformed record comes back in batchItemFailures and never fails its batch. Lambda then retries from
# that record; after ingest_max_retries the batch's description goes to the on-failure queue, so a
# poison record cannot hold its shard for the stream's whole retention.
#
# Scaled out: producers put each tick with its symbol as the partition key, so one symbol's ticks stay in
# order on one shard, and the parallelization factor keeps them in order per key while it processes
# several batches of a shard at once. Containers come and go and batches are retried: each container
# keeps only a cache (alerts, bars, indicators), and every crossing is recorded once through the
# symbol's cursor in the store (docs/speed-scale-out.md). A batch must finish within the timeout: 60 s,
# twice the cursor lease (30 s) that a container dying mid-batch leaves behind.

locals {
  ingest = var.ingest_package == "" ? 0 : 1
}

resource "aws_kinesis_stream" "ticks" {
  count            = local.ingest
  name             = var.ingest_stream_name
  retention_period = 24
  encryption_type  = "KMS"
  kms_key_id       = aws_kms_key.tables.arn
  stream_mode_details {
    stream_mode = "ON_DEMAND"
  }
  tags = var.tags
}

resource "aws_sqs_queue" "ingest_failures" {
  count                     = local.ingest
  name                      = "${var.ingest_stream_name}-failures"
  message_retention_seconds = 1209600
  kms_master_key_id         = aws_kms_key.tables.arn
  tags                      = var.tags
}

resource "aws_cloudwatch_log_group" "ingest" {
  count             = local.ingest
  name              = "/aws/lambda/${var.ingest_function_name}"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.tables.arn
  tags              = var.tags
}

resource "aws_lambda_function" "ingest" {
  count                          = local.ingest
  function_name                  = var.ingest_function_name
  role                           = aws_iam_role.lambda.arn
  handler                        = "alexdb.speed.kinesis.handler"
  runtime                        = "python3.11"
  filename                       = var.ingest_package
  source_code_hash               = filebase64sha256(var.ingest_package)
  timeout                        = 60
  memory_size                    = 1024
  reserved_concurrent_executions = var.ingest_concurrency
  kms_key_arn                    = aws_kms_key.tables.arn
  #checkov:skip=CKV_AWS_117:It reaches DynamoDB, SNS and SMTP over AWS endpoints; a VPC needs subnets this module does not own.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile of the deploying account; the package hash is pinned above.
  tracing_config {
    mode = "Active"
  }
  dead_letter_config {
    target_arn = aws_sqs_queue.ingest_failures[0].arn
  }
  environment {
    variables = {
      ALEXDB_URL            = "dynamodb://?region=${var.region}"
      ALEXDB_TICKS_BUCKET   = aws_s3_bucket.ticks.bucket
      ALEXDB_SNS_TOPIC_ARN  = var.alert_sns_topic_arn
      ALEXDB_WEBHOOK_URL    = var.alert_webhook_url
      ALEXDB_WEBHOOK_SECRET = var.alert_webhook_secret
    }
  }
  depends_on = [aws_cloudwatch_log_group.ingest]
  tags       = var.tags
}

resource "aws_lambda_event_source_mapping" "ticks" {
  count                              = local.ingest
  event_source_arn                   = aws_kinesis_stream.ticks[0].arn
  function_name                      = aws_lambda_function.ingest[0].arn
  starting_position                  = "LATEST"
  batch_size                         = 500
  maximum_batching_window_in_seconds = 1
  parallelization_factor             = var.ingest_parallelization
  function_response_types            = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = var.ingest_max_retries
  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.ingest_failures[0].arn
    }
  }
}

data "aws_iam_policy_document" "ingest" {
  count = local.ingest
  statement {
    sid = "ReadTheStream"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [aws_kinesis_stream.ticks[0].arn]
  }
  statement {
    sid       = "ListStreams"
    actions   = ["kinesis:ListStreams"]
    resources = ["*"]
  }
  statement {
    sid       = "FailuresQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.ingest_failures[0].arn]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.ingest[0].arn}:*"]
  }
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
  dynamic "statement" {
    for_each = var.alert_sns_topic_arn == "" ? [] : [var.alert_sns_topic_arn]
    content {
      sid       = "PublishAlerts"
      actions   = ["sns:Publish"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "ingest" {
  count  = local.ingest
  name   = "alexdb-ingest"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.ingest[0].json
}
