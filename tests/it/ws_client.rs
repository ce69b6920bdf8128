//! A small GraphQL-over-WebSocket client for the tests (tokio-tungstenite), speaking either
//! protocol the server offers.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

/// How long a test waits for a message it expects.
pub const PATIENCE: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// graphql-transport-ws (the graphql-ws library).
    TransportWs,
    /// The legacy graphql-ws (subscriptions-transport-ws).
    LegacyWs,
}

impl Protocol {
    pub const BOTH: [Protocol; 2] = [Protocol::TransportWs, Protocol::LegacyWs];

    fn header(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::LegacyWs => "graphql-ws",
        }
    }

    fn subscribe_type(self) -> &'static str {
        match self {
            Self::TransportWs => "subscribe",
            Self::LegacyWs => "start",
        }
    }

    fn next_type(self) -> &'static str {
        match self {
            Self::TransportWs => "next",
            Self::LegacyWs => "data",
        }
    }
}

/// What arrived for a subscription.
#[derive(Debug)]
pub enum Event {
    Next(Value),
    Complete,
}

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub protocol: Protocol,
    /// Keep-alive messages seen (`ping` or `ka`).
    pub keepalives: usize,
    /// The raw text of the last message returned (for byte-level checks such as field order).
    pub last_text: String,
}

impl WsClient {
    /// Opens `/graphql/ws` on `base` (http://…) without sending anything.
    pub async fn open(base: &str, protocol: Protocol) -> Self {
        let url = format!("{}/graphql/ws", base.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol.header()));
        let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()),
            Some(protocol.header())
        );
        Self { socket, protocol, keepalives: 0, last_text: String::new() }
    }

    /// Opens and completes `connection_init` with `token` (if any); panics unless acknowledged.
    pub async fn connect(base: &str, protocol: Protocol, token: Option<&str>) -> Self {
        let mut client = Self::open(base, protocol).await;
        let payload = token.map_or_else(|| json!({}), |t| json!({ "Authorization": format!("Bearer {t}") }));
        client.send(json!({ "type": "connection_init", "payload": payload })).await;
        let ack = client.receive().await.expect("connection closed before connection_ack");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.socket.send(Message::text(message.to_string())).await.unwrap();
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let message = json!({ "id": id, "type": self.protocol.subscribe_type(),
            "payload": { "query": query, "variables": variables } });
        self.send(message).await;
    }

    /// Stops a subscription.
    pub async fn stop(&mut self, id: &str) {
        let kind = if self.protocol == Protocol::TransportWs { "complete" } else { "stop" };
        self.send(json!({ "id": id, "type": kind })).await;
    }

    /// The next protocol message other than a keep-alive (answering pings), or `None` when the
    /// server closed the socket. Panics after [`PATIENCE`].
    pub async fn receive(&mut self) -> Option<Value> {
        self.receive_within(PATIENCE).await.unwrap_or_else(|| panic!("no message within {PATIENCE:?}"))
    }

    /// Like [`receive`](Self::receive), but `None` (outer) when nothing came within `wait`.
    async fn receive_within(&mut self, wait: Duration) -> Option<Option<Value>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => return Some(None),
                Ok(Some(Ok(message))) => message,
            };
            let text = match message {
                Message::Text(text) => text.to_string(),
                Message::Close(_) => return Some(None),
                _ => continue,
            };
            let value: Value = serde_json::from_str(&text).unwrap();
            if !self.keepalive(&value).await {
                self.last_text = text;
                return Some(Some(value));
            }
        }
    }

    /// Counts (and answers) a keep-alive; false for any other message.
    async fn keepalive(&mut self, value: &Value) -> bool {
        match value["type"].as_str() {
            Some("ka") => self.keepalives += 1,
            Some("ping") => {
                self.keepalives += 1;
                self.send(json!({ "type": "pong" })).await;
            }
            Some("pong") => {}
            _ => return false,
        }
        true
    }

    /// Waits for the next keep-alive; any other message first is a test failure.
    pub async fn next_keepalive(&mut self) {
        let before = self.keepalives;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.keepalives == before {
            let message = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no keep-alive within {PATIENCE:?}"))
                .expect("socket open")
                .expect("socket readable");
            let Message::Text(text) = message else { continue };
            let value: Value = serde_json::from_str(&text).unwrap();
            assert!(self.keepalive(&value).await, "a message other than a keep-alive: {value}");
        }
    }

    /// The next message of subscription `id` (others are a test failure).
    pub async fn event(&mut self, id: &str) -> Event {
        let message = self.receive().await.unwrap_or_else(|| panic!("socket closed while waiting for {id}"));
        assert_eq!(message["id"], id, "{message}");
        match message["type"].as_str() {
            Some(kind) if kind == self.protocol.next_type() => Event::Next(message["payload"].clone()),
            Some("complete") => Event::Complete,
            _ => panic!("unexpected message {message}"),
        }
    }

    /// The next data payload of `id`, which must carry no errors.
    pub async fn data(&mut self, id: &str) -> Value {
        match self.event(id).await {
            Event::Next(payload) => {
                assert!(payload.get("errors").is_none_or(Value::is_null), "{payload:#}");
                payload["data"].clone()
            }
            Event::Complete => panic!("{id} completed while data was expected"),
        }
    }

    /// The error code of the next payload of `id`, which must be an error.
    pub async fn error_code(&mut self, id: &str) -> String {
        match self.event(id).await {
            Event::Next(payload) => payload["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or_else(|| panic!("no error code in {payload:#}"))
                .to_owned(),
            Event::Complete => panic!("{id} completed while an error was expected"),
        }
    }

    /// The close code the server ends the socket with (waits for it).
    pub async fn close_code(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => panic!("the server did not close the socket within {PATIENCE:?}"),
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f: CloseFrame| u16::from(f.code)),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => return None,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })).await;
    }
}
