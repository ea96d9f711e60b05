//! An app served over a real socket on a free loopback port, for the tests and benchmarks that
//! go through TCP. Shared by the server's and the end-to-end test binaries and the HTTP
//! benchmark (each includes this file with `#[path]`).

use std::net::SocketAddr;

use jiancha_server::{App, ServerError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The task serving an app, ending with the server's own result.
pub type ServerTask = JoinHandle<Result<(), ServerError>>;

/// Serves `app` on a free port of 127.0.0.1 until the returned sender is sent to or dropped;
/// returns the address, that sender, and the serving task.
pub async fn serve_on_loopback(app: App) -> (SocketAddr, oneshot::Sender<()>, ServerTask) {
    let listener = jiancha_server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let signal = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(jiancha_server::run(listener, signal, app));
    (addr, stop, task)
}
