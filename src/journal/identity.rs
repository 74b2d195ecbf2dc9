//! Who runs the console, and where: recorded in the journal's header, on every confirmation and
//! in the lock a writer holds.

/// The operator: `explicit` (`--operator`) when given and not blank, else `$USER`, else
/// `$LOGNAME`, else the OS account name of this process's user, else `uid <n>`. Never
/// `unknown`.
pub fn operator(explicit: Option<&str>) -> String {
    let env = |k: &str| std::env::var(k).ok();
    operator_from(explicit, env("USER"), env("LOGNAME"), account_name)
}

fn operator_from(
    explicit: Option<&str>,
    user: Option<String>,
    logname: Option<String>,
    account: impl FnOnce() -> Option<String>,
) -> String {
    let clean = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    explicit
        .map(str::to_string)
        .and_then(clean)
        .or_else(|| user.and_then(clean))
        .or_else(|| logname.and_then(clean))
        .or_else(|| account().and_then(clean))
        .unwrap_or_else(|| format!("uid {}", nix::unistd::getuid()))
}

/// The OS account name of this process's real user (`/etc/passwd`, or NSS).
fn account_name() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// This machine's host name (`gethostname`, else `/proc/sys/kernel/hostname`), else
/// `unknown-host`.
pub fn host() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_falls_back_and_is_never_unknown() {
        let none = || None;
        assert_eq!(
            operator_from(Some("ann"), Some("bob".into()), None, none),
            "ann"
        );
        assert_eq!(
            operator_from(Some("  "), Some("bob".into()), None, none),
            "bob"
        );
        assert_eq!(
            operator_from(None, Some(String::new()), Some("carl".into()), none),
            "carl"
        );
        // An empty $USER and no $LOGNAME: the OS account.
        assert_eq!(
            operator_from(None, Some(String::new()), None, || Some("root".into())),
            "root"
        );
        let last = operator_from(None, Some(" ".into()), None, none);
        assert_eq!(last, format!("uid {}", nix::unistd::getuid()));
    }

    #[test]
    fn this_process_has_an_account_name_and_a_host() {
        // The real lookups, as the console would make them with an empty $USER.
        let name = operator_from(None, Some(String::new()), None, account_name);
        assert!(!name.is_empty() && name != "unknown", "{name}");
        let expected = account_name().unwrap_or_else(|| format!("uid {}", nix::unistd::getuid()));
        assert_eq!(name, expected);
        let h = host();
        assert!(!h.is_empty() && !h.contains('\n'), "{h:?}");
    }
}
