//! The reform history a code translation walks: the codes of one scheme, when each
//! municipality existed, and who succeeded whom (three statements, whatever the number of codes).

use std::collections::HashMap;

use entity::enums::CodeScheme;
use entity::{municipality, municipality_change, municipality_code};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::geography::{CodeHistory, DatedCode, Existence, Succession};

pub async fn code_history<C: ConnectionTrait>(conn: &C, scheme: CodeScheme) -> Result<CodeHistory, DbErr> {
    let codes = municipality_code::Entity::find()
        .filter(municipality_code::Column::Scheme.eq(scheme))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| DatedCode { municipality: c.municipality_id, value: c.value, from: c.valid_from, to: c.valid_to })
        .collect();
    let existence: HashMap<i32, Existence> = municipality::Entity::find()
        .select_only()
        .columns([municipality::Column::Id, municipality::Column::EstablishedOn, municipality::Column::DissolvedOn])
        .into_tuple::<(i32, Option<chrono::NaiveDate>, Option<chrono::NaiveDate>)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, from, to)| (id, Existence { from, to }))
        .collect();
    let successions = municipality_change::Entity::find()
        .select_only()
        .columns([
            municipality_change::Column::Day,
            municipality_change::Column::FromMunicipalityId,
            municipality_change::Column::ToMunicipalityId,
        ])
        .into_tuple::<(chrono::NaiveDate, Option<i32>, Option<i32>)>()
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|(day, from, to)| Some(Succession { day, from: from?, to: to? }))
        .collect();
    Ok(CodeHistory::new(codes, existence, successions))
}

/// The municipality that carried `code` in `scheme` on `day`.
pub async fn municipality_with_code<C: ConnectionTrait>(
    conn: &C,
    scheme: CodeScheme,
    code: &str,
    day: chrono::NaiveDate,
) -> Result<Option<municipality::Model>, DbErr> {
    let row = municipality_code::Entity::find()
        .filter(municipality_code::Column::Scheme.eq(scheme))
        .filter(municipality_code::Column::Value.eq(code))
        .filter(super::valid_on("municipality_codes", "valid_from", "valid_to", day))
        .one(conn)
        .await?;
    match row {
        Some(code) => municipality::Entity::find_by_id(code.municipality_id).one(conn).await,
        None => Ok(None),
    }
}

/// The region that carried `code` in `scheme` on `day`. A fylke or län carries the NUTS-3 code
/// of the NUTS-3 region it coincides with, so for NUTS codes the NUTS region itself is preferred.
pub async fn region_with_code<C: ConnectionTrait>(
    conn: &C,
    scheme: CodeScheme,
    code: &str,
    day: chrono::NaiveDate,
) -> Result<Option<entity::region::Model>, DbErr> {
    use entity::{region, region_code};
    let ids: Vec<i32> = region_code::Entity::find()
        .filter(region_code::Column::Scheme.eq(scheme))
        .filter(region_code::Column::Value.eq(code))
        .filter(super::valid_on("region_codes", "valid_from", "valid_to", day))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| c.region_id)
        .collect();
    let mut regions = region::Entity::find().filter(region::Column::Id.is_in(ids)).all(conn).await?;
    regions.sort_by_key(|r| (r.kind.as_str() != scheme.as_str(), r.id));
    Ok(regions.into_iter().next())
}
