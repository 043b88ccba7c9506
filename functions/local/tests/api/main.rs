//! The black-box suite, one binary so it links once: the real app started on a random
//! port and called over HTTP (`CRM_TEST_BACKEND=aws` runs it on the AWS twins, on moto),
//! the local server as a process, and the documents that must match what is served
//! (`openapi.yaml`, `template.yaml`, the README). One module per area; `support` holds
//! the app and the builders they share.

mod support;

mod audit;
mod auth;
mod capacity;
mod companies;
mod contacts;
mod deals;
mod docs;
mod duplicates;
mod errors;
mod exports;
mod feedback;
mod fields;
mod imports;
mod keys;
mod limits;
mod local_server;
mod lookup;
mod mfa;
mod objects;
mod openapi;
mod orders;
mod preferences;
mod products;
mod reset;
mod roles;
mod search;
mod security_matrix;
mod sensitive;
mod sessions;
mod tasks;
mod teams;
mod template;
mod tickets;
mod timeline;
mod users;
mod webhooks;
