//! Calls that find people: the caller, and users by email, account id or username.

use reqwest::Method;

use super::super::error::JiraError;
use super::super::flavour::{Flavour, UserKey};
use super::super::mapping::ResolvedUsers;
use super::super::wire;
use super::transport::Req;
use super::{JiraClient, JiraUser};
use crate::model::UserRef;

impl JiraClient {
    /// The user whose credentials the client uses.
    pub async fn myself(&self) -> Result<JiraUser, JiraError> {
        let u: wire::User = self
            .answer(Req::new(Method::GET, "myself"), "the calling user")
            .await?;
        Ok(u.into())
    }

    /// The user with this email (Cloud shows emails only where the user allows it).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<JiraUser>, JiraError> {
        let r =
            Req::new(Method::GET, "user/search").query(self.flavour().user_search_param(), email);
        let found: Vec<wire::User> = self.answer(r, "users found by email").await?;
        let list: Vec<JiraUser> = found.into_iter().map(JiraUser::from).collect();
        let exact = list
            .iter()
            .find(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .cloned();
        // A lone answer to an email query is that user even when the email is hidden.
        Ok(exact.or_else(|| (list.len() == 1).then(|| list[0].clone())))
    }

    /// The user with this Cloud account id, if any.
    pub async fn user_by_account_id(
        &self,
        account_id: &str,
    ) -> Result<Option<JiraUser>, JiraError> {
        self.user_query("accountId", account_id).await
    }

    /// A DC user by username; Cloud has no usernames (GDPR), so there it finds nobody.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<JiraUser>, JiraError> {
        match self.flavour().user_key() {
            UserKey::Username => self.user_query("username", username).await,
            UserKey::AccountId => Ok(None),
        }
    }

    async fn user_query(&self, param: &str, value: &str) -> Result<Option<JiraUser>, JiraError> {
        let r = Req::new(Method::GET, "user").query(param, value);
        match self.answer::<wire::User>(r, format!("user {value}")).await {
            Ok(u) => Ok(Some(u.into())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Finds a user by whatever the reference gives.
    pub async fn find_user(&self, r: &UserRef) -> Result<Option<JiraUser>, JiraError> {
        match r {
            UserRef::Email(e) => self.user_by_email(e).await,
            UserRef::AccountId(a) => match self.flavour() {
                Flavour::Cloud => self.user_by_account_id(a).await,
                // DC has no account ids: a foreign one cannot name a local user.
                Flavour::DataCenter => Ok(None),
            },
            UserRef::Name(n) => self.user_by_username(n).await,
        }
    }

    /// Resolves user refs to this flavour's identity; refs with no match are left out.
    pub async fn resolve_users(&self, refs: &[UserRef]) -> Result<ResolvedUsers, JiraError> {
        let mut out = ResolvedUsers::new();
        for r in refs {
            if let Some(u) = self.find_user(r).await?
                && let Some(id) = u.ident(self.flavour())
            {
                out.insert(r.clone(), id.to_string());
            }
        }
        Ok(out)
    }
}
