# The speed layer (seed 002). Keys must match ALERTS, TICKS and NOTIFICATIONS in
# src/alexdb/adapters/dynamodb/tables.py.

resource "aws_dynamodb_table" "alerts" {
  name         = "${var.speed_table_prefix}alert_configurations"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "alert_id"

  attribute {
    name = "alert_id"
    type = "S"
  }
  attribute {
    name = "symbol"
    type = "S"
  }
  attribute {
    name = "user_id"
    type = "S"
  }
  attribute {
    name = "created_at"
    type = "S"
  }

  # The alerts to evaluate for a symbol: their settings only, so recording a trigger writes no copy here.
  global_secondary_index {
    name               = "AlertsBySymbol"
    hash_key           = "symbol"
    range_key          = "user_id"
    projection_type    = "INCLUDE"
    non_key_attributes = ["condition_type", "condition", "notification_method", "enabled", "cooldown_seconds", "created_at", "updated_at", "armed_at"]
  }

  # A user's alerts, newest first.
  global_secondary_index {
    name            = "UserIndex"
    hash_key        = "user_id"
    range_key       = "created_at"
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

resource "aws_dynamodb_table" "ticks" {
  name         = "${var.speed_table_prefix}realtime_ticks"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "symbol"
  range_key    = "timestamp"

  attribute {
    name = "symbol"
    type = "S"
  }
  attribute {
    name = "timestamp"
    type = "N"
  }

  # Ticks expire 24 hours after their timestamp.
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

resource "aws_dynamodb_table" "notifications" {
  name         = "${var.speed_table_prefix}alert_notifications_history"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "user_id"
  range_key    = "triggered_at_id"

  attribute {
    name = "user_id"
    type = "S"
  }
  # "<triggered_at>#<notification_id>": two notifications in one millisecond never overwrite each other.
  attribute {
    name = "triggered_at_id"
    type = "S"
  }
  attribute {
    name = "outbox_shard"
    type = "S"
  }
  attribute {
    name = "next_attempt_at"
    type = "S"
  }

  # The delivery outbox: sparse, only deliveries not yet settled carry outbox_shard (OUTBOX#<nnn>, by id);
  # the retry worker reads each shard's due entries, the most overdue first.
  global_secondary_index {
    name            = "Outbox"
    hash_key        = "outbox_shard"
    range_key       = "next_attempt_at"
    projection_type = "KEYS_ONLY"
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
