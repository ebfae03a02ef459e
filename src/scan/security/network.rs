//! Networks: security groups open to the world (inline `ingress` blocks,
//! `aws_security_group_rule`, `aws_vpc_security_group_ingress_rule`), rule
//! descriptions, default security groups, subnets, VPC flow logs, and load
//! balancer listeners.

use std::collections::BTreeMap;

use super::{Hit, Module, Resource, Rule, Setting, Severity, each, hit, links, setting, setting_in, strings};
use crate::tf::Val;

pub static SSH_OPEN: Rule = Rule {
    id: "FC_NET_001",
    severity: Severity::High,
    title: "Security group allows SSH (22) from the internet",
    checkov_id: Some("CKV_AWS_24"),
    fix: "Restrict port 22 to known CIDR ranges or a bastion's security group, or use SSM Session Manager instead of SSH.",
    check: ssh,
};

pub static RDP_OPEN: Rule = Rule {
    id: "FC_NET_002",
    severity: Severity::High,
    title: "Security group allows RDP (3389) from the internet",
    checkov_id: Some("CKV_AWS_25"),
    fix: "Restrict port 3389 to known CIDR ranges or a VPN, or use SSM Fleet Manager.",
    check: rdp,
};

pub static ALL_PORTS_OPEN: Rule = Rule {
    id: "FC_NET_003",
    severity: Severity::Critical,
    title: "Security group allows all traffic from the internet",
    checkov_id: Some("CKV_AWS_277"),
    fix: "Replace the all-protocol / all-port ingress from 0.0.0.0/0 with the specific ports the service needs.",
    check: all_ports,
};

pub static DATA_PORTS_OPEN: Rule = Rule {
    id: "FC_NET_004",
    severity: Severity::High,
    title: "Security group exposes a database or admin port to the internet",
    checkov_id: None,
    fix: "Allow database and admin ports only from the application's security group or private CIDR ranges.",
    check: data_ports,
};

pub static RULE_DESCRIPTION: Rule = Rule {
    id: "FC_NET_005",
    severity: Severity::Low,
    title: "Security group or rule has no description",
    // Checkov accepts the provider's default "Managed by Terraform"; we do not.
    checkov_id: Some("CKV_AWS_23"),
    fix: "Give the security group and each of its rules a description saying what the traffic is for.",
    check: descriptions,
};

pub static SUBNET_PUBLIC_IP: Rule = Rule {
    id: "FC_NET_006",
    severity: Severity::Low,
    title: "Subnet assigns public IP addresses by default",
    checkov_id: Some("CKV_AWS_130"),
    fix: "Set map_public_ip_on_launch = false and give public addresses only to resources that need them (load balancers, NAT).",
    check: subnet_public_ip,
};

pub static VPC_FLOW_LOGS: Rule = Rule {
    id: "FC_NET_007",
    severity: Severity::Medium,
    title: "VPC has no flow logs",
    checkov_id: Some("CKV2_AWS_11"),
    fix: "Add an aws_flow_log with vpc_id = this VPC, traffic_type = \"ALL\", to CloudWatch Logs or S3.",
    check: flow_logs,
};

pub static DEFAULT_SG_OPEN: Rule = Rule {
    id: "FC_NET_008",
    severity: Severity::Medium,
    title: "Default security group does not restrict all traffic",
    // Checkov reports this on the aws_vpc; we report the aws_default_security_group that has the rules.
    checkov_id: Some("CKV2_AWS_12"),
    fix: "Remove every ingress and egress rule from aws_default_security_group; attach purpose-made security groups instead.",
    check: default_sg,
};

pub static HTTP_OPEN: Rule = Rule {
    id: "FC_NET_009",
    severity: Severity::Low,
    title: "Security group allows HTTP (80) from the internet",
    checkov_id: Some("CKV_AWS_260"),
    fix: "Serve the internet through a load balancer or CloudFront on 443, and allow port 80 only from it (or redirect to HTTPS there).",
    check: http,
};

pub static LB_LISTENER_HTTP: Rule = Rule {
    id: "FC_ELB_001",
    severity: Severity::Medium,
    title: "Load balancer listener accepts plain HTTP without redirecting to HTTPS",
    checkov_id: Some("CKV_AWS_2"),
    fix: "Use protocol = \"HTTPS\" with a certificate, or make the HTTP listener's default_action a redirect to HTTPS.",
    check: lb_listener_http,
};

/// Ports an attacker scans for first: databases, caches, search, admin consoles.
const DATA_PORTS: &[(u32, &str)] = &[
    (21, "FTP"),
    (23, "Telnet"),
    (135, "MS RPC"),
    (445, "SMB"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (2375, "Docker"),
    (2379, "etcd"),
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (5601, "Kibana"),
    (5900, "VNC"),
    (5984, "CouchDB"),
    (6379, "Redis"),
    (9042, "Cassandra"),
    (9200, "Elasticsearch"),
    (11211, "Memcached"),
    (27017, "MongoDB"),
];

#[derive(Debug, Clone, Copy)]
enum Ports {
    All,
    Range(u32, u32),
}

impl Ports {
    fn covers(self, port: u32) -> bool {
        match self {
            Ports::All => true,
            Ports::Range(from, to) => from <= port && port <= to,
        }
    }
}

/// A rule known to be open to 0.0.0.0/0 or ::/0, with known ports.
struct OpenIngress<'m> {
    resource: &'m Resource,
    attr: &'static str,
    ports: Ports,
    cidr: &'static str,
}

fn open_ingress(m: &Module) -> Vec<OpenIngress<'_>> {
    open_rules(m, "ingress")
}

/// The rules of one direction (`ingress` or `egress`) open to the whole internet.
fn open_rules<'m>(m: &'m Module, direction: &'static str) -> Vec<OpenIngress<'m>> {
    let mut out = Vec::new();
    let split_kind = if direction == "ingress" { "aws_vpc_security_group_ingress_rule" } else { "aws_vpc_security_group_egress_rule" };
    for r in m.resources.iter().filter(|r| !r.data) {
        let rules: Vec<&BTreeMap<String, Val>> = match r.kind.as_str() {
            "aws_security_group" | "aws_default_security_group" => r.get(direction).map(Val::blocks).unwrap_or_default(),
            "aws_security_group_rule" if setting(r, "type").as_str() == Some(direction) => vec![&r.attrs],
            k if k == split_kind => vec![&r.attrs],
            _ => continue,
        };
        let attr = if r.kind.ends_with("_rule") { "" } else { direction };
        for rule in rules {
            let Some(cidr) = world(rule) else { continue };
            if let Some(ports) = ports(rule) {
                out.push(OpenIngress { resource: r, attr, ports, cidr });
            }
        }
    }
    out
}

fn world(rule: &BTreeMap<String, Val>) -> Option<&'static str> {
    let v4: Vec<&str> = strings(rule.get("cidr_blocks")).into_iter().chain(strings(rule.get("cidr_ipv4"))).collect();
    let v6: Vec<&str> = strings(rule.get("ipv6_cidr_blocks")).into_iter().chain(strings(rule.get("cidr_ipv6"))).collect();
    if v4.contains(&"0.0.0.0/0") {
        Some("0.0.0.0/0")
    } else if v6.iter().any(|c| *c == "::/0" || *c == "0000:0000:0000:0000:0000:0000:0000:0000/0") {
        Some("::/0")
    } else {
        None
    }
}

/// The ports a rule opens, when known; `None` for ICMP and unknown values.
fn ports(rule: &BTreeMap<String, Val>) -> Option<Ports> {
    let protocol = match setting_in(rule, "protocol") {
        Setting::Absent => setting_in(rule, "ip_protocol"),
        s => s,
    };
    // Terraform converts `protocol = -1` (a number) to the string "-1": read both spellings.
    let protocol = protocol.as_text()?.to_ascii_lowercase();
    if protocol == "-1" || protocol == "all" {
        return Some(Ports::All);
    }
    if !matches!(protocol.as_str(), "tcp" | "6" | "udp" | "17") {
        return None;
    }
    let from = setting_in(rule, "from_port").as_num()?;
    let to = setting_in(rule, "to_port").as_num()?;
    if from < 0.0 || to < 0.0 || (from <= 0.0 && to >= 65535.0) || (from == 0.0 && to == 0.0) {
        return Some(Ports::All);
    }
    Some(Ports::Range(from as u32, to as u32))
}

fn port_rule<'m>(m: &'m Module, port: u32, name: &str) -> Vec<Hit<'m>> {
    open_ingress(m)
        .into_iter()
        .filter(|i| i.ports.covers(port))
        .map(|i| hit(i.resource, i.attr, format!("ingress from {} reaches port {port} ({name})", i.cidr)))
        .collect()
}

fn ssh(m: &Module) -> Vec<Hit<'_>> {
    port_rule(m, 22, "SSH")
}

fn rdp(m: &Module) -> Vec<Hit<'_>> {
    port_rule(m, 3389, "RDP")
}

fn http(m: &Module) -> Vec<Hit<'_>> {
    port_rule(m, 80, "HTTP")
}

fn all_ports(m: &Module) -> Vec<Hit<'_>> {
    open_ingress(m)
        .into_iter()
        .filter(|i| matches!(i.ports, Ports::All))
        .map(|i| hit(i.resource, i.attr, format!("ingress from {} allows every port and protocol", i.cidr)))
        .collect()
}

fn data_ports(m: &Module) -> Vec<Hit<'_>> {
    open_ingress(m)
        .into_iter()
        .filter_map(|i| {
            // All ports open is FC_NET_003's finding.
            let Ports::Range(..) = i.ports else { return None };
            let exposed: Vec<String> = DATA_PORTS.iter().filter(|(p, _)| i.ports.covers(*p)).map(|(p, n)| format!("{p} ({n})")).collect();
            (!exposed.is_empty()).then(|| hit(i.resource, i.attr, format!("ingress from {} reaches {}", i.cidr, exposed.join(", "))))
        })
        .collect()
}

fn descriptions(m: &Module) -> Vec<Hit<'_>> {
    let kinds = ["aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"];
    each(m, &kinds, "description", |r| {
        let described = |map: &BTreeMap<String, Val>| match setting_in(map, "description") {
            Setting::Absent => false,
            s => s.as_str() != Some("Managed by Terraform"),
        };
        if !described(&r.attrs) {
            return Some(format!("the {} has no description", if r.kind == "aws_security_group" { "security group" } else { "rule" }));
        }
        for direction in ["ingress", "egress"] {
            let blocks = r.get(direction).map(Val::blocks).unwrap_or_default();
            if let Some(n) = blocks.iter().position(|b| !described(b)) {
                return Some(format!("{direction} rule {} has no description", n + 1));
            }
        }
        None
    })
}

fn subnet_public_ip(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_subnet"], "map_public_ip_on_launch", |r| {
        (setting(r, "map_public_ip_on_launch").as_bool() == Some(true)).then(|| "map_public_ip_on_launch = true".into())
    })
}

fn flow_logs(m: &Module) -> Vec<Hit<'_>> {
    m.of_kind("aws_vpc")
        .filter(|vpc| links(m, "aws_flow_log", "vpc_id", vpc, &["id"]).none())
        .map(|vpc| hit(vpc, "", "no aws_flow_log has vpc_id pointing at this VPC"))
        .collect()
}

fn default_sg(m: &Module) -> Vec<Hit<'_>> {
    let mut hits = each(m, &["aws_default_security_group"], "", |r| {
        let rules: Vec<&str> = ["ingress", "egress"].into_iter().filter(|d| !setting(r, d).is_absent()).collect();
        (!rules.is_empty()).then(|| format!("the default security group keeps {} rules", rules.join(" and ")))
    });
    // A VPC whose default group nobody manages keeps AWS's default rules (all traffic
    // within the group, all outbound), as Checkov's CKV2_AWS_12 also reports. A default
    // group whose VPC cannot be told (unknown vpc_id) is taken to be this VPC's.
    let (mut refs, mut ids, mut any_vpc) = (std::collections::HashSet::new(), std::collections::HashSet::new(), false);
    for g in m.of_kind("aws_default_security_group") {
        match g.get("vpc_id") {
            Some(Val::Ref(address)) => {
                refs.insert(address.as_str());
            }
            Some(Val::Str(id)) => {
                ids.insert(id.as_str());
            }
            _ => any_vpc = true,
        }
    }
    hits.extend(each(m, &["aws_vpc"], "", |vpc| {
        let vpc_id = vpc.get("id").and_then(Val::as_str);
        let managed = any_vpc || refs.contains(vpc.address.as_str()) || (!ids.is_empty() && vpc_id.is_none_or(|v| ids.contains(v)));
        (!managed)
            .then(|| "no aws_default_security_group restricts this VPC's default security group, which AWS leaves open within the group and outbound".into())
    }));
    hits
}

fn lb_listener_http(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_lb_listener", "aws_alb_listener"], "protocol", |r| {
        let protocol = setting(r, "protocol");
        let plain = protocol.is_absent() || protocol.as_str().is_some_and(|p| p.eq_ignore_ascii_case("HTTP"));
        if !plain {
            return None;
        }
        let actions = r.get("default_action").map(Val::blocks).unwrap_or_default();
        let redirects = actions.iter().any(|a| {
            let kind = setting_in(a, "type");
            matches!(kind, Setting::Unknown)
                || (kind.as_str() == Some("redirect") && !matches!(setting_in(a, "redirect.protocol").as_str(), Some(p) if !p.eq_ignore_ascii_case("HTTPS")))
        });
        (!redirects).then(|| "the listener serves HTTP and does not redirect to HTTPS".into())
    })
}

pub static EGRESS_ALL: Rule = Rule {
    id: "FC_NET_010",
    severity: Severity::Low,
    title: "Security group allows all outbound traffic to the internet",
    checkov_id: Some("CKV_AWS_382"),
    fix: "Limit egress to the ports and destinations the workload uses (443 to 0.0.0.0/0, the database's security group, VPC endpoints' prefix lists).",
    check: egress_all,
};

fn egress_all(m: &Module) -> Vec<Hit<'_>> {
    open_rules(m, "egress")
        .into_iter()
        .filter(|i| matches!(i.ports, Ports::All))
        .map(|i| hit(i.resource, i.attr, format!("egress to {} allows every port and protocol", i.cidr)))
        .collect()
}
