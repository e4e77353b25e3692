# The Lambda execution role: exactly the DynamoDB actions alexdb calls (see DATA_ACTIONS in
# src/alexdb/adapters/dynamodb/tables.py), on exactly its tables and their indexes, and the two S3 calls of
# the tick archive (ARCHIVE_ACTIONS in tick_archive.py) on its chunks.

resource "aws_iam_role" "lambda" {
  name = var.lambda_role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

data "aws_iam_policy_document" "tables" {
  statement {
    sid = "AlexdbTables"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:UpdateItem",
    ]
    resources = [
      aws_dynamodb_table.users.arn,
      aws_dynamodb_table.instruments.arn,
      aws_dynamodb_table.chat.arn,
      aws_dynamodb_table.alerts.arn,
      aws_dynamodb_table.ticks.arn,
      aws_dynamodb_table.notifications.arn,
    ]
  }

  statement {
    sid     = "AlexdbIndexes"
    actions = ["dynamodb:Query"]
    resources = [
      "${aws_dynamodb_table.users.arn}/index/Directory",
      "${aws_dynamodb_table.users.arn}/index/JobQueue",
      "${aws_dynamodb_table.users.arn}/index/UserJobs",
      "${aws_dynamodb_table.users.arn}/index/HoldersIndex",
      "${aws_dynamodb_table.users.arn}/index/LSI1",
      "${aws_dynamodb_table.instruments.arn}/index/GSI1",
      "${aws_dynamodb_table.instruments.arn}/index/GSI2",
      "${aws_dynamodb_table.chat.arn}/index/UserSessionsIndex",
      "${aws_dynamodb_table.alerts.arn}/index/AlertsBySymbol",
      "${aws_dynamodb_table.alerts.arn}/index/UserIndex",
      "${aws_dynamodb_table.notifications.arn}/index/Outbox",
    ]
  }

  statement {
    sid       = "AlexdbTickArchive"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.ticks.arn}/ticks/*"]
  }

  statement {
    sid       = "AlexdbTableKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.tables.arn]
  }
}

resource "aws_iam_role_policy" "tables" {
  name   = "alexdb-tables"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.tables.json
}
