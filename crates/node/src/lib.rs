//! napi-rs binding of bsd-sockets-core: JS values <-> core types, errors with
//! the errno's name, fd ownership across the JS boundary. No socket logic.
#![allow(missing_docs)] // the public docs are the TSDoc in ts/

mod address;
mod constants;
mod error;
mod select;
mod socket;
