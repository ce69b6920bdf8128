//! Roles and the guard that enforces them. Until authentication lands (issue #4) every request
//! is `Public`, so student data is refused to everyone: guarded, not merely hidden.

use async_graphql::{Context, Guard, Result};

use super::error::{Code, coded};

/// Who is asking, in increasing order of rights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    #[default]
    Public,
    Analyst,
    Editor,
    Admin,
}

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
        let role = ctx.data_opt::<Role>().copied().unwrap_or_default();
        if role >= self.minimum {
            Ok(())
        } else {
            Err(coded(Code::Forbidden, format!("this field needs the {:?} role or higher", self.minimum)))
        }
    }
}
