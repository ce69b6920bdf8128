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
