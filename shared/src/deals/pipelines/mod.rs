//! Sales pipelines: each an ordered list of stages (name, win probability, and whether a
//! deal there is open, won or lost). Every tenant starts with one; admins add, rename,
//! reorder and remove stages. This module holds the record and its rules; `service`
//! applies permissions, and keeps stages that still hold deals from being removed.

pub mod service;

use serde::{Deserialize, Serialize};

use crate::ids::{TenantId, is_id, new_id};
use crate::table::Key;
use crate::terms::fold as terms_fold;
use crate::validation::Errors;

pub const PREFIX: &str = crate::ids::PipelineId::PREFIX;
pub const STAGE_PREFIX: &str = crate::ids::StageId::PREFIX;
/// Pipelines per tenant.
pub const MAX_PIPELINES: usize = 20;
/// Stages per pipeline (removing a whole pipeline checks each stage in one transaction).
pub const MAX_STAGES: usize = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    Open,
    Won,
    Lost,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub id: String,
    pub name: String,
    /// Percent chance that a deal here is won, for weighted forecasts.
    pub probability: u8,
    pub kind: StageKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pipeline {
    pub id: String,
    pub name: String,
    /// In board order.
    pub stages: Vec<Stage>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Pipeline {
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id == id)
    }

    /// The first open stage: where a new deal starts unless told otherwise.
    pub fn first_open(&self) -> Option<&Stage> {
        self.stages.iter().find(|s| s.kind == StageKind::Open)
    }
}

/// A stage as a client sends it: an existing stage by `id` (renamed, moved, its
/// probability changed), or a new one without.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    pub id: Option<String>,
    pub name: String,
    pub probability: Option<u8>,
    pub kind: Option<StageKind>,
}

/// The body of `POST /v1/pipelines`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPipeline {
    pub name: String,
    /// In board order; the default stages when absent.
    pub stages: Option<Vec<StageInput>>,
}

/// The body of `PATCH /v1/pipelines/{id}`: `stages`, when sent, is the whole new list.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelinePatch {
    #[serde(default, deserialize_with = "crate::wire::present")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::wire::present")]
    pub stages: Option<Option<Vec<StageInput>>>,
}

/// The stages a new tenant's pipeline (and a pipeline created without stages) has, in
/// the tenant's language.
pub fn default_stages(locale: &str) -> Vec<StageInput> {
    let chinese = locale.starts_with("zh");
    [
        ("First contact", "初步接触", 10, StageKind::Open),
        ("Needs assessment", "需求分析", 25, StageKind::Open),
        ("Proposal", "方案报价", 50, StageKind::Open),
        ("Negotiation", "商务谈判", 75, StageKind::Open),
        ("Won", "赢单", 100, StageKind::Won),
        ("Lost", "输单", 0, StageKind::Lost),
    ]
    .into_iter()
    .map(|(en, zh, probability, kind)| StageInput {
        id: None,
        name: if chinese { zh } else { en }.to_owned(),
        probability: Some(probability),
        kind: Some(kind),
    })
    .collect()
}

/// The default pipeline's name.
pub fn default_name(locale: &str) -> &'static str {
    if locale.starts_with("zh") {
        "销售流程"
    } else {
        "Sales"
    }
}

/// Builds the stage list from `input`: existing stages (from `current`) keep their ids;
/// new ones get fresh ids. Reports every rule broken.
pub fn build_stages(current: &[Stage], input: Vec<StageInput>, errors: &mut Errors) -> Vec<Stage> {
    if !(2..=MAX_STAGES).contains(&input.len()) {
        errors.add("stages", format!("must hold 2 to {MAX_STAGES} stages"));
    }
    let mut stages: Vec<Stage> = Vec::with_capacity(input.len());
    let mut names = std::collections::BTreeSet::new();
    for (i, stage) in input.into_iter().enumerate() {
        let at = |field: &str| format!("stages[{i}].{field}");
        let existing = match &stage.id {
            Some(id) => match current.iter().find(|s| &s.id == id) {
                Some(found) if !stages.iter().any(|s| &s.id == id) => Some(found),
                Some(_) => {
                    errors.add(at("id"), "names a stage already listed");
                    None
                }
                None => {
                    errors.add(at("id"), "is not a stage of this pipeline");
                    None
                }
            },
            None => None,
        };
        errors.text(&at("name"), &stage.name, 1, 100);
        let name = stage.name.trim().to_owned();
        if !name.is_empty() && !names.insert(terms_fold(&name)) {
            errors.add(at("name"), "is the name of another stage of this pipeline");
        }
        let kind = stage
            .kind
            .or(existing.map(|s| s.kind))
            .unwrap_or(StageKind::Open);
        let probability = stage
            .probability
            .or(existing.map(|s| s.probability))
            .unwrap_or(match kind {
                StageKind::Open => 10,
                StageKind::Won => 100,
                StageKind::Lost => 0,
            });
        if probability > 100 {
            errors.add(at("probability"), "must be 0 to 100");
        }
        stages.push(Stage {
            id: existing.map_or_else(|| new_id(STAGE_PREFIX), |s| s.id.clone()),
            name,
            probability,
            kind,
        });
    }
    for (kind, word) in [
        (StageKind::Open, "open"),
        (StageKind::Won, "won"),
        (StageKind::Lost, "lost"),
    ] {
        if !stages.is_empty() && !stages.iter().any(|s| s.kind == kind) {
            errors.add("stages", format!("must include at least one {word} stage"));
        }
    }
    stages
}

pub fn check_name(name: &str, errors: &mut Errors) {
    errors.text("name", name, 1, 100);
}

pub fn is_pipeline_id(id: &str) -> bool {
    is_id(PREFIX, id)
}

pub fn pk(tenant: &TenantId) -> String {
    tenant.pk("pipelines")
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(pk(tenant), id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, kind: StageKind) -> StageInput {
        StageInput {
            id: None,
            name: name.into(),
            probability: None,
            kind: Some(kind),
        }
    }

    #[test]
    fn the_default_stages_form_a_valid_pipeline_in_both_languages() {
        for locale in ["en", "zh-CN"] {
            let mut errors = Errors::new();
            let stages = build_stages(&[], default_stages(locale), &mut errors);
            assert!(errors.finish().is_ok(), "{locale}");
            assert_eq!(stages.len(), 6);
            assert_eq!(stages[4].kind, StageKind::Won);
            assert_eq!(stages[4].probability, 100);
        }
    }

    #[test]
    fn stages_keep_their_ids_and_every_rule_is_reported() {
        let mut errors = Errors::new();
        let current = build_stages(
            &[],
            vec![
                input("A", StageKind::Open),
                input("W", StageKind::Won),
                input("L", StageKind::Lost),
            ],
            &mut errors,
        );
        let mut moved = vec![
            StageInput {
                id: Some(current[2].id.clone()),
                name: "Lost it".into(),
                probability: None,
                kind: None,
            },
            StageInput {
                id: Some(current[0].id.clone()),
                ..input("A", StageKind::Open)
            },
            input("W2", StageKind::Won),
        ];
        let next = build_stages(&current, moved.clone(), &mut errors);
        assert!(errors.finish().is_ok());
        assert_eq!(next[0].id, current[2].id);
        assert_eq!(next[0].kind, StageKind::Lost, "kept from the stage");
        assert_eq!(next[1].id, current[0].id);
        assert_ne!(next[2].id, current[1].id, "a stage without id is new");

        moved.push(StageInput {
            id: Some("stg_unknown".into()),
            ..input("X", StageKind::Open)
        });
        moved.push(input("a", StageKind::Open));
        moved[0].probability = Some(101);
        let mut errors = Errors::new();
        build_stages(&current, moved, &mut errors);
        let fields: Vec<String> = errors
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["stages[0].probability", "stages[3].id", "stages[4].name"]
        );
        let mut errors = Errors::new();
        build_stages(&[], vec![input("A", StageKind::Open)], &mut errors);
        let fields: Vec<String> = errors
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["stages", "stages", "stages"]);
    }
}
