//! Listen addresses such as `"127.0.0.1:8080"`.

use std::net::SocketAddr;

use super::decode_from_str;

decode_from_str!(
    SocketAddr,
    "an address",
    "write an IP address and a port, e.g. \"127.0.0.1:8080\" or \"[::]:8080\""
);
