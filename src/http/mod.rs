//! The HTTP transport: the edge every request passes first (authentication, per-client rate
//! limit, coded refusals: [`edge`]), the `/graphql` handler ([`graphql`]), the `/graphql/ws`
//! WebSocket loop ([`ws`]), the network downloads under `/export/` ([`downloads`]), the
//! writer lane mutations run on ([`writer_lane`]), which database answers a query ([`reads`])
//! and the pages for people with their assets
//! ([`pages`]). The GraphQL schema itself knows nothing of
//! HTTP; routes are assembled in [`crate::server`].

pub mod downloads;
pub mod edge;
pub mod graphql;
pub mod pages;
pub mod reads;
pub mod writer_lane;
pub mod ws;
