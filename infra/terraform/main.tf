# The two tables of alexdb's DynamoDB design. Keys, indexes and the TTL attribute must match
# src/alexdb/adapters/dynamodb/tables.py; tests/test_terraform.py fails if they drift apart.

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "tables" {
  description         = "Encrypts the alexdb DynamoDB tables"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministers"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
      }, {
      # CloudWatch Logs encrypts the ingest function's log group with this key; it has no IAM role to use.
      Sid       = "LogsEncrypt"
      Effect    = "Allow"
      Principal = { Service = "logs.${var.region}.amazonaws.com" }
      Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      Resource  = "*"
      Condition = {
        ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:${var.region}:${data.aws_caller_identity.current.account_id}:*" }
      }
    }]
  })
  tags = var.tags
}

resource "aws_dynamodb_table" "users" {
  name         = var.users_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "PK"
  range_key    = "SK"

  attribute {
    name = "PK"
    type = "S"
  }
  attribute {
    name = "SK"
    type = "S"
  }
  attribute {
    name = "DIRPK"
    type = "S"
  }
  attribute {
    name = "DIRSK"
    type = "S"
  }
  attribute {
    name = "QPK"
    type = "S"
  }
  attribute {
    name = "QSK"
    type = "S"
  }
  attribute {
    name = "UJPK"
    type = "S"
  }
  attribute {
    name = "UJSK"
    type = "S"
  }
  attribute {
    name = "LSI1SK"
    type = "S"
  }
  attribute {
    name = "GSI3PK"
    type = "S"
  }
  attribute {
    name = "GSI3SK"
    type = "S"
  }

  # The user directory in 16 shards (USERS#<nn>): no key holds every user.
  global_secondary_index {
    name            = "Directory"
    hash_key        = "DIRPK"
    range_key       = "DIRSK"
    projection_type = "ALL"
  }

  # The work queue: jobs of a status in creation order, in 16 shards, without the agents' result payloads.
  global_secondary_index {
    name               = "JobQueue"
    hash_key           = "QPK"
    range_key          = "QSK"
    projection_type    = "INCLUDE"
    non_key_attributes = ["id", "clerk_user_id", "job_type", "status", "request_payload", "error_message", "created_at", "started_at", "completed_at", "updated_at", "has_results"]
  }

  # A user's jobs of one status, newest first, without the agents' result payloads.
  global_secondary_index {
    name               = "UserJobs"
    hash_key           = "UJPK"
    range_key          = "UJSK"
    projection_type    = "INCLUDE"
    non_key_attributes = ["id", "clerk_user_id", "job_type", "status", "request_payload", "error_message", "created_at", "started_at", "completed_at", "updated_at", "has_results"]
  }

  # Who holds a symbol, by last change (CURRENT items): a split checks that no change is after it.
  global_secondary_index {
    name            = "HoldersIndex"
    hash_key        = "GSI3PK"
    range_key       = "GSI3SK"
    projection_type = "ALL"
  }

  # An account's position history in time order across symbols.
  local_secondary_index {
    name            = "LSI1"
    range_key       = "LSI1SK"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.pitr_enabled
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.tables.arn
  }

  tags = var.tags
}

resource "aws_dynamodb_table" "instruments" {
  name         = var.instruments_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "PK"
  range_key    = "SK"

  attribute {
    name = "PK"
    type = "S"
  }
  attribute {
    name = "SK"
    type = "S"
  }
  attribute {
    name = "GSI1PK"
    type = "S"
  }
  attribute {
    name = "GSI1SK"
    type = "S"
  }
  attribute {
    name = "GSI2PK"
    type = "S"
  }
  attribute {
    name = "GSI2SK"
    type = "S"
  }

  # All instruments by symbol (sparse: META items only).
  global_secondary_index {
    name            = "GSI1"
    hash_key        = "GSI1PK"
    range_key       = "GSI1SK"
    projection_type = "ALL"
  }

  # Instruments by type, then symbol (sparse: META items only).
  global_secondary_index {
    name            = "GSI2"
    hash_key        = "GSI2PK"
    range_key       = "GSI2SK"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.pitr_enabled
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.tables.arn
  }

  tags = var.tags
}
