//! `newsarc serve` as a child process on a free port of 127.0.0.1, for the
//! tests that talk to (or kill) a real server.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts `newsarc serve` over `store`; returns it and its URL once it
/// listens (it prints the address first).
pub fn start_server(store: &Path) -> (Child, String) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .arg("--store")
        .arg(store)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env_remove("NEWSARC_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start newsarc serve");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the server's first line");
    let addr = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_owned();
    (server, format!("http://{addr}"))
}
