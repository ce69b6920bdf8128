//! The subscription root for dashboards: the change feed (`registryChanged`, resumable with
//! `after`), live region metrics (`metricsChanged`, debounced) and live projects
//! (`projectChanged`). Every stream follows this instance's [`Feed`]; none queries per event
//! except to resolve what it sends. Streams end when the token that opened them expires.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Subscription};
use entity::{project, region};
use futures::Stream;
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::access::role_of;
use super::error::{Code, bad_input, coded, not_found};
use super::query::{by_key, db};
use super::types::common::{Date, PeriodInput};
use super::types::geography::region_default_day;
use super::types::metrics::Metrics;
use super::types::work::Project;
use crate::auth::{Principal, Role, now_secs};
use crate::db::events;
use crate::db::feed::{self, Feed, FeedEvent};
use crate::domain::metrics::NodeKind;

/// Tables whose rows are about students: their changes reach analysts and up only.
const PERSONAL: [&str; 2] = ["students", "student_placements"];

/// `metricsChanged` and `projectChanged` send at most one message per this interval.
pub const DEBOUNCE: Duration = Duration::from_millis(250);

#[derive(Default)]
pub struct Subscription;

/// Which changes to receive; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct RegistryChangeFilter {
    /// Tables (`projects`, `project_partners`, `region_memberships`…); default all the caller
    /// may see (`students` and `student_placements` need the analyst role).
    pub entities: Option<Vec<String>>,
    /// Only changes that touch this region: the region itself, its municipalities (then or
    /// now), organisations seated there, their projects with partners, goals and results.
    pub region_slug: Option<String>,
    /// Only changes to this project, its partners, goals, budget lines, results and placements.
    pub project_slug: Option<String>,
}

/// One committed change.
pub struct RegistryChange(Arc<FeedEvent>);

#[Object]
impl RegistryChange {
    /// Opaque position in the feed: pass it as `after` to resume right behind this change.
    async fn cursor(&self) -> String {
        self.0.event.seq.to_string()
    }
    /// The table changed (`projects`, `region_memberships`…).
    async fn entity(&self) -> &str {
        &self.0.event.entity
    }
    async fn slug(&self) -> Option<&str> {
        self.0.event.slug.as_deref()
    }
    /// `create`, `update`, `delete` or `end`.
    async fn operation(&self) -> &str {
        &self.0.event.operation
    }
    /// The row's version after the change.
    async fn version(&self) -> i32 {
        self.0.event.version
    }
    /// When it was committed (RFC 3339, UTC).
    async fn time(&self) -> String {
        self.0.event.occurred_at.to_rfc3339()
    }
}

/// A region's metrics after the changes up to `cursor`.
#[derive(SimpleObject)]
pub struct MetricsUpdate {
    /// The last change this update includes (the feed position when it was computed).
    pub cursor: String,
    pub metrics: Metrics,
}

/// Subscriptions open on one socket, capped.
#[derive(Clone, Debug)]
pub struct SubscriptionSlots {
    open: Arc<AtomicUsize>,
    max: usize,
}

impl SubscriptionSlots {
    pub fn new(max: usize) -> Self {
        Self { open: Arc::default(), max }
    }

    /// A slot for one more subscription, given back when the stream is dropped.
    fn take(&self) -> Result<Slot> {
        let taken = self.open.fetch_add(1, Ordering::SeqCst);
        let slot = Slot(self.open.clone());
        if taken >= self.max {
            return Err(coded(
                Code::TooManySubscriptions,
                format!("at most {} subscriptions may be open on one connection", self.max),
            ));
        }
        Ok(slot)
    }
}

struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What every stream needs from the connection: the feed, the database, the end of the token.
struct Live {
    feed: Feed,
    conn: DatabaseConnection,
    expires: Option<Instant>,
    _slot: Option<Slot>,
}

impl Live {
    fn of(ctx: &Context<'_>) -> Result<Self> {
        let feed = ctx.data::<Feed>().map_err(|_| coded(Code::BadUserInput, "subscriptions run over /graphql/ws"))?;
        let slot = ctx.data_opt::<SubscriptionSlots>().map(SubscriptionSlots::take).transpose()?;
        let expires = ctx.data_opt::<Principal>().and_then(|p| p.expires_at).and_then(|at| {
            let left = at.saturating_sub(now_secs());
            // A token valid for centuries simply never ends the stream.
            Instant::now().checked_add(Duration::from_secs(left))
        });
        Ok(Self { feed: feed.clone(), conn: db(ctx).clone(), expires, _slot: slot })
    }

    /// The last committed change, read from the database: a subscription without `after` starts
    /// there, not at this instance's feed position, which may not have caught up yet.
    async fn now(&self) -> Result<i64> {
        events::data_version(&self.conn).await.map_err(|error| super::error::internal(&error))
    }

    /// Resolves at the token's expiry (never for anonymous callers).
    async fn expiry(expires: Option<Instant>) {
        match expires {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    }
}

fn token_expired() -> async_graphql::Error {
    coded(Code::Unauthenticated, "the token that opened this subscription has expired; subscribe again with a new one")
}

fn cursor_of(after: Option<&str>) -> Result<Option<i64>> {
    after
        .map(|cursor| {
            cursor.parse::<i64>().ok().filter(|seq| *seq >= 0).ok_or_else(|| bad_input("after", "not a feed cursor"))
        })
        .transpose()
}

/// The feed after `position`, without gaps or repeats: first the table (which also covers
/// whatever committed between reading `position` and subscribing), then live events, and the
/// table again whenever the live buffer overflowed. A database that is away (restarting) is
/// retried, keeping the position. Ends at the token's expiry with an `UNAUTHENTICATED` error.
fn follow(live: Live, mut position: i64) -> impl Stream<Item = Result<Arc<FeedEvent>>> {
    // Subscribed before reading the table: whatever commits meanwhile is in one or the other.
    let mut receiver = live.feed.subscribe();
    async_stream::stream! {
        // Moved whole, so the subscription's slot lives as long as the stream (a block that
        // used only some fields would capture just those, and the slot would be freed at once).
        let live = live;
        let mut replay = true;
        let mut failures = 0_u32;
        loop {
            if live.expires.is_some_and(|at| at <= Instant::now()) {
                yield Err(token_expired());
                return;
            }
            if replay {
                match feed::replay(&live.conn, position).await {
                    Ok(page) if page.is_empty() => replay = false,
                    Ok(page) => {
                        failures = 0;
                        for event in page {
                            position = event.event.seq;
                            yield Ok(event);
                        }
                    }
                    Err(error) => {
                        failures += 1;
                        tracing::warn!(%error, failures, "a subscription could not read the outbox; retrying");
                        tokio::time::sleep(Duration::from_millis(250 * u64::from(failures.min(20)))).await;
                    }
                }
                continue;
            }
            tokio::select! {
                received = receiver.recv() => match received {
                    Ok(event) if event.event.seq > position => {
                        position = event.event.seq;
                        yield Ok(event);
                    }
                    Ok(_) => {}
                    // Too slow for the live buffer: read what it dropped from the table.
                    Err(RecvError::Lagged(_)) => replay = true,
                    Err(RecvError::Closed) => return,
                },
                () = Live::expiry(live.expires) => {
                    yield Err(token_expired());
                    return;
                }
            }
        }
    }
}

/// The cursor of the latest change, after changes for which `touches` holds: at most one per
/// [`DEBOUNCE`] (a burst of changes is one message), and always one after the last of them, so
/// a stream at rest is never stale. The first change after a quiet spell is sent at once.
fn coalesced(
    live: Live,
    position: i64,
    touches: impl Fn(&FeedEvent) -> bool + Send + 'static,
) -> impl Stream<Item = Result<i64>> {
    let changes = follow(live, position);
    async_stream::stream! {
        futures::pin_mut!(changes);
        let mut cursor = position;
        // The subscription's first message (sent by the caller) counts as a send.
        let mut last_sent = Instant::now();
        let mut dirty = false;
        loop {
            let next_send = last_sent + DEBOUNCE;
            tokio::select! {
                change = futures::StreamExt::next(&mut changes) => match change {
                    Some(Ok(event)) => {
                        cursor = cursor.max(event.event.seq);
                        dirty |= touches(&event);
                    }
                    Some(Err(error)) => { yield Err(error); return; }
                    None => return,
                },
                () = tokio::time::sleep_until(next_send), if dirty => {
                    dirty = false;
                    last_sent = Instant::now();
                    yield Ok(cursor);
                }
            }
        }
    }
}

#[Subscription]
impl Subscription {
    /// Committed changes matching `filter`, as they commit. With `after` (a `cursor` from an
    /// earlier message), first every matching change after it from the outbox, then live, with
    /// nothing missed or repeated at the seam.
    async fn registry_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<RegistryChangeFilter>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<RegistryChange>> + use<>> {
        let filter = filter.unwrap_or_default();
        let trusted = role_of(ctx) >= Role::Analyst;
        if !trusted && filter.entities.iter().flatten().any(|entity| PERSONAL.contains(&entity.as_str())) {
            return Err(coded(Code::Forbidden, "changes to students and placements need the Analyst role or higher"));
        }
        let after = cursor_of(after.as_deref())?;
        let live = Live::of(ctx)?;
        let region_id = match &filter.region_slug {
            Some(slug) => Some(by_key::<region::Entity>(ctx, "region", region::Column::Slug, slug).await?.id),
            None => None,
        };
        let project_id = match &filter.project_slug {
            Some(slug) => Some(by_key::<project::Entity>(ctx, "project", project::Column::Slug, slug).await?.id),
            None => None,
        };
        let entities = filter.entities;
        let wanted = move |event: &FeedEvent| {
            (trusted || !PERSONAL.contains(&event.event.entity.as_str()))
                && entities.as_ref().is_none_or(|e| e.contains(&event.event.entity))
                && region_id.is_none_or(|id| event.impact.region_ids.contains(&id))
                && project_id.is_none_or(|id| event.impact.project_ids.contains(&id))
        };
        let position = match after {
            Some(after) => after,
            None => live.now().await?,
        };
        Ok(futures::StreamExt::filter_map(follow(live, position), move |item| {
            let item = match item {
                Ok(event) => wanted(&event).then(|| Ok(RegistryChange(event))),
                Err(error) => Some(Err(error)),
            };
            std::future::ready(item)
        }))
    }

    /// The region's metrics for `period` at once, then again after changes that touch the
    /// region: at most one message per 250 ms, and always one after the last change, so a
    /// dashboard at rest shows current figures. `asOf` as on `Region.metrics`.
    async fn metrics_changed(
        &self,
        ctx: &Context<'_>,
        region_slug: String,
        period: Option<PeriodInput>,
        as_of: Option<Date>,
    ) -> Result<impl Stream<Item = Result<MetricsUpdate>> + use<>> {
        let live = Live::of(ctx)?;
        let region = by_key::<region::Entity>(ctx, "region", region::Column::Slug, &region_slug).await?;
        let metrics = Metrics::new(NodeKind::Region, region.id, period, as_of, region_default_day(&region))?;
        let position = live.now().await?;
        let region_id = region.id;
        let ticks = coalesced(live, position, move |event| event.impact.region_ids.contains(&region_id));
        Ok(async_stream::stream! {
            yield Ok(MetricsUpdate { cursor: position.to_string(), metrics });
            futures::pin_mut!(ticks);
            while let Some(tick) = futures::StreamExt::next(&mut ticks).await {
                match tick {
                    Ok(cursor) => yield Ok(MetricsUpdate { cursor: cursor.to_string(), metrics }),
                    Err(error) => { yield Err(error); return; }
                }
            }
        })
    }

    /// The project with its partners and goals at once, then after changes to it (its
    /// partners, goals, budget lines and results included): at most one message per 250 ms,
    /// and always one after the last change. Ends with `NOT_FOUND` if the project is deleted.
    async fn project_changed(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> Result<impl Stream<Item = Result<Project>> + use<>> {
        let live = Live::of(ctx)?;
        let conn = live.conn.clone();
        // Position and subscription before the first read: a change in between is then sent.
        let position = live.now().await?;
        let first = by_key::<project::Entity>(ctx, "project", project::Column::Slug, &slug).await?;
        let id = first.id;
        let ticks = coalesced(live, position, move |event| event.impact.project_ids.contains(&id));
        Ok(async_stream::stream! {
            yield Ok(Project(first));
            futures::pin_mut!(ticks);
            while let Some(tick) = futures::StreamExt::next(&mut ticks).await {
                if let Err(error) = tick {
                    yield Err(error);
                    return;
                }
                match crate::db::queries::batch::by_ids::<project::Entity, _>(&conn, &[id]).await.map(|rows| rows.into_iter().next()) {
                    Ok(Some(row)) => yield Ok(Project(row)),
                    Ok(None) => { yield Err(not_found("project", &slug)); return; }
                    Err(error) => { yield Err(super::error::internal(&error)); return; }
                }
            }
        })
    }
}
