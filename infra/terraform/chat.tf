# Conversation memory (seed 003): chat_sessions with UserSessionsIndex, TTL, 35 days of PITR, and
# CloudWatch alarms on system and user errors. Keys must match CHAT in src/alexdb/adapters/dynamodb/tables.py.

resource "aws_dynamodb_table" "chat" {
  name         = var.chat_table_name
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

  # A user's sessions by recency: GSI1PK USER#<id>, GSI1SK last_accessed (METADATA items only).
  global_secondary_index {
    name            = "UserSessionsIndex"
    hash_key        = "GSI1PK"
    range_key       = "GSI1SK"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled                 = var.pitr_enabled
    recovery_period_in_days = 35
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.tables.arn
  }

  tags = var.tags
}

# DynamoDB reports SystemErrors per table (HTTP 500s from the service).
resource "aws_cloudwatch_metric_alarm" "chat_system_errors" {
  alarm_name          = "${var.chat_table_name}-system-errors"
  alarm_description   = "DynamoDB returned server errors for the chat sessions table."
  namespace           = "AWS/DynamoDB"
  metric_name         = "SystemErrors"
  dimensions          = { TableName = aws_dynamodb_table.chat.name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arn == "" ? [] : [var.alarm_sns_topic_arn]
  tags                = var.tags
}

# UserErrors (HTTP 400s: validation, conditional and throttled requests) is an account-wide metric.
resource "aws_cloudwatch_metric_alarm" "user_errors" {
  alarm_name          = "${var.chat_table_name}-user-errors"
  alarm_description   = "DynamoDB requests in this account and region failed with client errors."
  namespace           = "AWS/DynamoDB"
  metric_name         = "UserErrors"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.user_errors_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_sns_topic_arn == "" ? [] : [var.alarm_sns_topic_arn]
  tags                = var.tags
}
