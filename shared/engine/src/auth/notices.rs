//! Security notices: the mail a user gets when someone else changed how they sign in or
//! what they may do (their second factor reset, their roles changed, their account
//! deactivated or reactivated), in their language (`zh-*` in Chinese, else English).
//!
//! The notice goes out after the change is stored; a mail failure is logged and does not
//! undo the change (the audit log holds it either way).

use crate::AppState;
use crate::directory;
use crate::directory::User;
use crate::mail::Mail;
use crate::principal::Principal;

/// What was done to the user's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    MfaReset,
    RolesChanged,
    Deactivated,
    Reactivated,
}

/// The notice for `user` about `notice`, done by `by` in `company`.
pub fn compose(user: &User, notice: Notice, by: &str, company: &str) -> Mail {
    let chinese = user.locale.starts_with("zh");
    let (subject, what) = match (notice, chinese) {
        (Notice::MfaReset, false) => (
            "Your two-step sign-in was turned off",
            "turned off two-step sign-in (your authenticator codes) for your account. \
             You can sign in with your password alone until you set it up again.",
        ),
        (Notice::MfaReset, true) => (
            "您的两步验证已被关闭",
            "关闭了您账户的两步验证（身份验证器验证码）。在您重新设置之前，仅凭密码即可登录。",
        ),
        (Notice::RolesChanged, false) => (
            "Your roles were changed",
            "changed your roles, and with them what you may see and do.",
        ),
        (Notice::RolesChanged, true) => (
            "您的角色已被更改",
            "更改了您的角色，您可查看和操作的内容也随之改变。",
        ),
        (Notice::Deactivated, false) => (
            "Your account was deactivated",
            "deactivated your account: you can no longer sign in, and API keys you made \
             stop working.",
        ),
        (Notice::Deactivated, true) => (
            "您的账户已被停用",
            "停用了您的账户：您将无法登录，您创建的 API 密钥也将停止工作。",
        ),
        (Notice::Reactivated, false) => (
            "Your account was reactivated",
            "reactivated your account: you can sign in again.",
        ),
        (Notice::Reactivated, true) => {
            ("您的账户已重新启用", "重新启用了您的账户：您可以再次登录。")
        }
    };
    let text = if chinese {
        format!(
            "{name}，您好：\n\n{by}（{company}）{what}\n\n如果这不是您预期的操作，请立即联系贵公司的管理员。\n",
            name = user.name,
        )
    } else {
        format!(
            "Hello {name},\n\n{by} at {company} {what}\n\nIf you did not expect this, contact \
             your company's administrator at once.\n",
            name = user.name,
        )
    };
    Mail {
        to: user.email.clone(),
        subject: format!("{company}: {subject}"),
        text,
    }
}

/// Tells `user` by mail that `principal` did `notice` to their account.
pub async fn tell(state: &AppState, principal: &Principal, user: &User, notice: Notice) {
    let table = state.table.as_ref();
    let (by, company) = tokio::join!(
        directory::get_user(table, &principal.tenant, &principal.user_id),
        directory::get_tenant(table, &principal.tenant),
    );
    let by = by
        .ok()
        .flatten()
        .map_or_else(|| "An administrator".to_owned(), |u| u.name);
    let company = company
        .ok()
        .flatten()
        .map(|t| t.company_name)
        .unwrap_or_default();
    let mail = compose(user, notice, &by, &company);
    if let Err(e) = state.mailer.send(&mail).await {
        tracing::warn!(error = %e, user_id = %user.id, "security notice not mailed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(locale: &str) -> User {
        User {
            id: "usr_1".into(),
            email: "li@example.com".into(),
            name: "Li".into(),
            password_hash: String::new(),
            status: directory::Status::Active,
            role_ids: vec![],
            locale: locale.into(),
            mfa: None,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    }

    #[test]
    fn notices_speak_the_users_language() {
        let en = compose(&user("en"), Notice::MfaReset, "Ann", "Acme");
        assert!(en.subject.contains("two-step sign-in"), "{}", en.subject);
        assert!(en.text.contains("Ann at Acme"), "{}", en.text);
        let zh = compose(&user("zh-CN"), Notice::MfaReset, "Ann", "Acme");
        assert!(zh.subject.contains("两步验证"), "{}", zh.subject);
        assert_eq!(zh.to, "li@example.com");
    }
}
