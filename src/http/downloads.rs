//! `GET /export/network.{graphml,gexf,nodes.csv,edges.csv,json}`: the network that
//! `network(…)` selects, as a download for Gephi, Cytoscape or NetworkX. Query parameters
//! mirror the GraphQL arguments: `programme`, `project`, `region`, `kinds` and `edges`
//! (comma-separated enum names), `country`, `from`, `to`, `asOf`, `level`, `minWeight`. The same
//! roles, cache and errors (JSON with `extensions.code`) as GraphQL. The Cytoscape JSON carries
//! each node's betweenness (sampled beyond 2 000 nodes), for drawing.

use crate::codes::Code;
use async_graphql::{InputType, Name, Value};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::edge::{coded_response, request_id};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::network::centrality::{self, Paths};
use crate::domain::network::export::{self, Format};
use crate::graphql::loaders::request_loader;
use crate::graphql::network::{
    NetworkEdgeKind, NetworkFilterInput, NetworkLevel, NetworkRequest, Refused, build, unknown_slug,
};
use crate::graphql::types::common::{Date, OrganisationKind, PeriodInput};

/// Beyond this many nodes the drawing's betweenness is estimated from 256 sources.
const EXACT_DRAWING_BETWEENNESS: usize = 2_000;

/// The query parameters of a download.
#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportParams {
    pub programme: Option<String>,
    pub project: Option<String>,
    pub region: Option<String>,
    pub kinds: Option<String>,
    pub country: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub as_of: Option<String>,
    pub level: Option<String>,
    pub edges: Option<String>,
    pub min_weight: Option<i32>,
}

/// A refused download: its code (which gives the status) and message.
type Refusal = (Code, String);

fn bad(message: impl Into<String>) -> Refusal {
    (Code::BadUserInput, message.into())
}

/// A GraphQL enum value from its name, case-insensitively (`region` → `REGION`).
fn enum_value<T: InputType>(parameter: &str, text: &str) -> Result<T, Refusal> {
    T::parse(Some(Value::Enum(Name::new(text.trim().to_uppercase()))))
        .map_err(|_| bad(format!("`{text}` is not a valid value of `{parameter}`")))
}

fn enum_list<T: InputType>(parameter: &str, text: &Option<String>) -> Result<Option<Vec<T>>, Refusal> {
    text.as_ref()
        .map(|text| {
            text.split(',').filter(|part| !part.trim().is_empty()).map(|part| enum_value(parameter, part)).collect()
        })
        .transpose()
}

fn date(parameter: &str, text: &Option<String>) -> Result<Option<Date>, Refusal> {
    text.as_ref()
        .map(|text| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| bad(format!("`{parameter}` is a date: YYYY-MM-DD")))
        })
        .transpose()
}

impl ExportParams {
    /// The GraphQL arguments these parameters stand for.
    pub fn filter(&self) -> Result<NetworkFilterInput, Refusal> {
        Ok(NetworkFilterInput {
            programme: self.programme.clone(),
            project: self.project.clone(),
            region: self.region.clone(),
            organisation_kinds: enum_list::<OrganisationKind>("kinds", &self.kinds)?,
            country: self.country.clone(),
        })
    }

    pub fn request(&self, principal: &Principal) -> Result<NetworkRequest, Refusal> {
        let level = self.level.as_deref().map(|level| enum_value::<NetworkLevel>("level", level)).transpose()?;
        let period = (self.from.is_some() || self.to.is_some())
            .then(|| Ok::<_, Refusal>(PeriodInput { from: date("from", &self.from)?, to: date("to", &self.to)? }))
            .transpose()?;
        NetworkRequest::new(
            principal.role,
            self.filter()?,
            period,
            date("asOf", &self.as_of)?,
            level.unwrap_or_default(),
            enum_list::<NetworkEdgeKind>("edges", &self.edges)?,
            self.min_weight.unwrap_or(1),
        )
        .map_err(|refused| match refused {
            Refused::BadInput { message, .. } => bad(message),
            Refused::Forbidden(message) => (Code::Forbidden, message),
        })
    }
}

/// What downloads need: the database and the cost limits GraphQL requests have.
#[derive(Clone)]
pub struct DownloadState {
    pub db: Db,
    pub limits: crate::graphql::cost::CostLimits,
}

pub async fn export_network(
    State(DownloadState { db, limits }): State<DownloadState>,
    Extension(principal): Extension<Principal>,
    Path(file): Path<String>,
    headers: HeaderMap,
    params: Result<Query<ExportParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let id = request_id(&headers);
    match download(&db, &limits, &principal, &file, params).await {
        Ok((format, body)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&format!("attachment; filename=\"{}\"", format.file_name()))
                        .unwrap_or(HeaderValue::from_static("attachment")),
                ),
            ],
            body,
        )
            .into_response(),
        Err((code, message)) => coded_response(code, &message, &id),
    }
}

async fn download(
    db: &Db,
    limits: &crate::graphql::cost::CostLimits,
    principal: &Principal,
    file: &str,
    params: Result<Query<ExportParams>, axum::extract::rejection::QueryRejection>,
) -> Result<(Format, String), Refusal> {
    let format = Format::from_file_name(file).ok_or_else(|| {
        (
            Code::NotFound,
            "downloads: network.graphml, network.gexf, network.nodes.csv, network.edges.csv, network.json".to_owned(),
        )
    })?;
    let Query(params) = params.map_err(|rejection| bad(rejection.body_text()))?;
    let request = params.request(principal)?;
    // The same cost check as `network { export }`, before any SQL.
    let estimated = {
        let counts = db.network_counts.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        crate::graphql::cost::download_cost(
            &counts,
            request.level,
            request.filter.programme.as_deref(),
            request.filter.project.is_some(),
            request.filter.edges.contains(&crate::domain::network::EdgeKind::Placement),
            format == Format::CytoscapeJson,
        )
    };
    let limit = limits.for_role(principal.role);
    if usize::try_from(estimated).unwrap_or(usize::MAX) > limit {
        return Err((
            Code::QueryTooExpensive,
            format!(
                "this download would cost {estimated} and the {} role may spend {limit} per request; filter the \
                 network (a programme or project) or download a higher level",
                principal.role.as_str()
            ),
        ));
    }
    let internal = |error: sea_orm::DbErr| {
        tracing::error!(error.cause = %error, "network export failed");
        (Code::Internal, "internal error; it has been logged".to_owned())
    };
    if let Some((what, slug)) = unknown_slug(&db.conn, &params.filter()?).await.map_err(internal)? {
        return Err((Code::NotFound, format!("no {what} with slug `{slug}`")));
    }
    let loader = request_loader(db, Default::default());
    let built = build(loader.loader(), &db.conn, &request).await.map_err(internal)?;
    let body = if format == Format::CytoscapeJson {
        let graph = built.graph.clone();
        crate::jobs::run(move |stop| {
            let samples = (graph.len() > EXACT_DRAWING_BETWEENNESS).then_some(256);
            let betweenness = centrality::betweenness(&graph, Paths::All, samples, 0, stop)?;
            Ok(export::write(&graph, format, &[("betweenness", &betweenness)]))
        })
        .await
        .map_err(|error| internal(sea_orm::DbErr::Custom(error.to_string())))?
    } else {
        export::write(&built.graph, format, &[])
    };
    Ok((format, body))
}
