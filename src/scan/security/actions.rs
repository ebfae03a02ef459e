//! IAM actions by access level, from the AWS Service Authorization Reference
//! (`aws_actions.txt`, written by `scripts/gen-aws-actions`): the actions
//! whose level is "Permissions management", and the "Write" actions that accept
//! resource ARNs. The IAM rules expand a statement's action patterns (`iam:*`,
//! `s3:Put*`, `*`) against this table.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::policy::glob;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Access level "Permissions management": changes who may do what.
    PermissionsManagement,
    /// Access level "Write", on an action that can be limited to resource ARNs.
    RestrictableWrite,
}

/// Actions by lower-case service prefix: (action as AWS writes it, class).
type Table = HashMap<String, Vec<(&'static str, Class)>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: Table = HashMap::new();
        for line in include_str!("aws_actions.txt").lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let Some((action, class)) = line.split_once(' ') else { continue };
            let class = if class == "P" { Class::PermissionsManagement } else { Class::RestrictableWrite };
            let service = action.split(':').next().unwrap_or_default().to_ascii_lowercase();
            table.entry(service).or_default().push((action, class));
        }
        table
    })
}

/// Every action of `class`, sorted.
pub(crate) fn all(class: Class) -> &'static [&'static str] {
    static PERMISSIONS: OnceLock<Vec<&'static str>> = OnceLock::new();
    static WRITE: OnceLock<Vec<&'static str>> = OnceLock::new();
    let cell = match class {
        Class::PermissionsManagement => &PERMISSIONS,
        Class::RestrictableWrite => &WRITE,
    };
    cell.get_or_init(|| {
        let mut list: Vec<&'static str> = table().values().flatten().filter(|(_, c)| *c == class).map(|(a, _)| *a).collect();
        list.sort_unstable();
        list
    })
}

/// The actions of `class` that an IAM action pattern matches (`*` and `?` as IAM reads them).
pub(crate) fn matching(pattern: &str, class: Class) -> Vec<&'static str> {
    let pattern = pattern.trim();
    let of_class = |list: &'static Vec<(&'static str, Class)>| list.iter().filter(move |(_, c)| *c == class).map(|(a, _)| *a);
    match pattern.split_once(':') {
        Some((service, name)) if !service.contains(['*', '?']) => {
            let Some(list) = table().get(&service.to_ascii_lowercase()) else { return Vec::new() };
            if name == "*" { of_class(list).collect() } else { of_class(list).filter(|a| glob(pattern, a)).collect() }
        }
        _ => table().values().flat_map(of_class).filter(|a| pattern == "*" || glob(pattern, a)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_expand_by_service_and_class() {
        let iam = matching("iam:*", Class::PermissionsManagement);
        assert!(iam.contains(&"iam:AttachRolePolicy") && iam.contains(&"iam:UpdateAssumeRolePolicy"), "{iam:?}");
        assert!(!iam.contains(&"iam:GetRole"));
        assert_eq!(matching("IAM:attachrolepolicy", Class::PermissionsManagement), vec!["iam:AttachRolePolicy"]);
        assert!(matching("s3:Put*", Class::PermissionsManagement).contains(&"s3:PutBucketPolicy"));
        assert!(matching("s3:Put*", Class::RestrictableWrite).contains(&"s3:PutObject"));
        assert!(matching("s3:GetObject", Class::RestrictableWrite).is_empty(), "a read is neither class");
        assert!(matching("*", Class::PermissionsManagement).len() > 400);
        assert!(matching("nosuchservice:*", Class::RestrictableWrite).is_empty());
        assert!(matching("*:PutBucketPolicy", Class::PermissionsManagement).contains(&"s3:PutBucketPolicy"));
    }
}
