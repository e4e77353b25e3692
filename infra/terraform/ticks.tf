# Raw tick chunks (src/alexdb/adapters/dynamodb/tick_archive.py): an ingest batch puts its symbols' compressed
# trades in one object, and the ticks table keeps per symbol and second where its chunk is (1 WRU). Objects
# are written once under unique keys and expire after two days, a day after the table's items do (TTL 24 h
# after their last trade): an item never outlives its chunk.

resource "aws_s3_bucket" "ticks" {
  bucket        = var.ticks_bucket_name == "" ? null : var.ticks_bucket_name
  bucket_prefix = var.ticks_bucket_name == "" ? "alexdb-ticks-" : null
  tags          = var.tags
  #checkov:skip=CKV_AWS_21:Each object is written once under a unique key and expires in two days; versions would only keep expired chunks.
  #checkov:skip=CKV_AWS_144:Raw trades live one day (db.ticks' retention); a replica in another region would double the cost of a day's buffer.
  #checkov:skip=CKV_AWS_18:Every request is the Lambda role's; access logs would be a second copy of the traffic the objects already are.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to a new chunk; readers find chunks through the ticks table.
}

resource "aws_s3_bucket_public_access_block" "ticks" {
  bucket                  = aws_s3_bucket.ticks.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "ticks" {
  bucket = aws_s3_bucket.ticks.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "ticks" {
  bucket = aws_s3_bucket.ticks.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.tables.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "ticks" {
  bucket = aws_s3_bucket.ticks.id
  rule {
    id     = "expire-chunks"
    status = "Enabled"
    filter {}
    expiration {
      days = 2
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}
