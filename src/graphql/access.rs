//! The guard that enforces roles on fields (roles themselves live in `crate::auth`). Student
//! data is guarded field by field and lookup by lookup, not merely hidden.

use async_graphql::{Context, Guard, Result};

use super::error::{Code, coded};

pub use crate::auth::{Principal, Role};

/// Refuses the field unless the request's role is at least `minimum`.
pub struct RoleGuard {
    minimum: Role,
}

impl RoleGuard {
    pub fn new(minimum: Role) -> Self {
        Self { minimum }
    }
}

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        let role = role_of(ctx);
        if role >= self.minimum {
            Ok(())
        } else {
            Err(coded(Code::Forbidden, format!("this field needs the {:?} role or higher", self.minimum)))
        }
    }
}

/// The role of the request (public when the handler attached no principal).
pub fn role_of(ctx: &Context<'_>) -> Role {
    ctx.data_opt::<Principal>().map(|principal| principal.role).unwrap_or_default()
}

/// The name change events record for this request's caller.
pub fn actor_of(ctx: &Context<'_>) -> String {
    ctx.data_opt::<Principal>().map(Principal::actor).unwrap_or_else(|| "anonymous".into())
}
