//! The library's own suites, one binary so they link once: each port's twins (SQLite and
//! DynamoDB, files and S3, the local key and KMS, the drop directory and SES) pass the
//! same cases, the AWS twins on moto server; and the contact rules of the policy.

mod support;

mod blobs;
mod contacts_policy;
mod keys;
mod mail;
mod table;
