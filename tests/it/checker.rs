//! `sferum-bot check`: it passes on the shipped data and, on broken copies, fails naming the
//! file and the step of each fault.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use sferum_bot::i18n::Locales;
use sferum_bot::script::{self, Problem, ProblemKind};

use super::helpers::crate_dir;

fn read_dir(dir: &str) -> Vec<(PathBuf, String)> {
    let mut files: Vec<_> = std::fs::read_dir(crate_dir().join(dir))
        .expect("readable folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml" || x == "ftl"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable file");
            (
                PathBuf::from(dir).join(p.file_name().expect("a name")),
                text,
            )
        })
        .collect();
    files.sort();
    files
}

/// The shipped dialogues as (path, text), `questions/` included.
fn shipped_dialogues() -> Vec<(PathBuf, String)> {
    script::read_sources(&crate_dir().join("dialogues"))
        .expect("readable dialogues")
        .into_iter()
        .map(|(path, text)| {
            let relative = path.strip_prefix(crate_dir()).expect("inside the crate");
            (relative.to_path_buf(), text)
        })
        .collect()
}

/// A copy of the shipped dialogues with `edit` applied to every file, in a temporary folder.
fn edited_copy(edit: impl Fn(&str) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let dialogues = dir.path().join("dialogues");
    for (path, text) in shipped_dialogues() {
        let target = dir.path().join(path);
        std::fs::create_dir_all(target.parent().expect("a folder")).expect("mkdir");
        std::fs::write(target, edit(&text)).expect("write");
    }
    (dir, dialogues)
}

fn shipped_locales() -> BTreeMap<String, Vec<(PathBuf, String)>> {
    let mut langs = BTreeMap::new();
    for entry in std::fs::read_dir(crate_dir().join("locales")).expect("locales") {
        let path = entry.expect("entry").path();
        let lang = path.file_name().unwrap().to_string_lossy().into_owned();
        langs.insert(lang.clone(), read_dir(&format!("locales/{lang}")));
    }
    langs
}

/// The problems after `edit` changes the shipped file `file`.
fn problems_after(file: &str, edit: impl Fn(&str) -> String) -> Vec<Problem> {
    let mut dialogues = shipped_dialogues();
    let mut locales = shipped_locales();
    let mut found = false;
    for (path, text) in dialogues
        .iter_mut()
        .chain(locales.values_mut().flat_map(|files| files.iter_mut()))
    {
        if path.ends_with(file) {
            let edited = edit(text);
            found |= *text != edited;
            *text = edited;
        }
    }
    assert!(
        found,
        "the edit of {file} changed nothing (or there is no such file)"
    );
    let locales = match Locales::from_sources(locales) {
        Ok(l) => l,
        Err(e) => {
            return vec![Problem::file(
                ProblemKind::Unreadable,
                "locales",
                e.to_string(),
            )];
        }
    };
    match script::load_sources(&dialogues) {
        Ok(scripts) => script::find_problems(&scripts, &locales),
        Err(problems) => problems.0,
    }
}

/// Asserts a problem of `kind` in `file` at `step` that names `subject` (the step, message,
/// variable or name at fault: data, not the checker's wording).
#[track_caller]
fn assert_reported(
    problems: &[Problem],
    kind: ProblemKind,
    file: &str,
    step: Option<&str>,
    subject: &str,
) {
    let hit = problems.iter().any(|p| {
        p.kind == kind
            && p.file.to_string_lossy().contains(file)
            && p.step.as_deref() == step
            && p.message.contains(subject)
    });
    assert!(
        hit,
        "expected a {kind:?} problem in {file} at step {step:?} naming «{subject}»; got:\n{}",
        problems
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_shipped_scripts_and_locales_pass() {
    let locales = Locales::from_sources(shipped_locales()).expect("locales load");
    let scripts = script::load_sources(&shipped_dialogues()).expect("scripts load");
    let problems = script::find_problems(&scripts, &locales);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(script::check(scripts, locales).is_ok());
}

#[test]
fn an_unknown_step_target_is_named() {
    let problems = problems_after("variant1.toml", |t| {
        t.replace("next = \"confirm_contact\"", "next = \"confirm_kontakt\"")
    });
    assert_reported(
        &problems,
        ProblemKind::UnknownName,
        "variant1.toml",
        Some("contact"),
        "`confirm_kontakt`",
    );
}

#[test]
fn an_unreachable_step_is_named() {
    let problems = problems_after("variant1.toml", |t| {
        format!("{t}\n[[step]]\nid = \"orphan\"\nsay = \"v1-welcome\"\nbuttons = [{{ label = \"btn-menu\", goto = \"menu/start\" }}]\n")
    });
    assert_reported(
        &problems,
        ProblemKind::Unreachable,
        "variant1.toml",
        Some("orphan"),
        "",
    );
}

#[test]
fn a_dead_end_is_named() {
    let problems = problems_after("parent.toml", |t| {
        t.replace(
            "say = \"parent-cancelled\"\nbuttons = [\n  { label = \"btn-menu\", goto = \"menu/start\" },\n]",
            "say = \"parent-cancelled\"",
        )
    });
    assert_reported(
        &problems,
        ProblemKind::LeadsNowhere,
        "parent.toml",
        Some("cancelled"),
        "",
    );
}

#[test]
fn a_message_missing_in_a_locale_is_named() {
    let problems = problems_after("variant1.ftl", |t| {
        t.replace("v1-ask-name =", "v1-ask-nam =")
    });
    assert_reported(
        &problems,
        ProblemKind::MissingMessage,
        "variant1.toml",
        Some("name"),
        "`v1-ask-name`",
    );
}

#[test]
fn a_variable_the_step_cannot_provide_is_named() {
    // The child's name is not known yet when the contact is asked for.
    let problems = problems_after("variant1.ftl", |t| {
        t.replace(
            "Напишите номер телефона или email РЕБЁНКА",
            "{ $child_name }, напишите номер",
        )
    });
    assert_reported(
        &problems,
        ProblemKind::NotKnownHere,
        "variant1.toml",
        Some("contact"),
        "`$child_name`",
    );
}

#[test]
fn an_unknown_variable_is_named() {
    let problems = problems_after("parent.ftl", |t| {
        t.replace("Всё верно?", "Всё верно, { $parent_name }?")
    });
    assert_reported(
        &problems,
        ProblemKind::UnknownVariable,
        "parent.toml",
        Some("check_child"),
        "`$parent_name`",
    );
}

#[test]
fn an_unknown_input_kind_is_named() {
    let problems = problems_after("variant1.toml", |t| {
        t.replace("input = \"child_name\"", "input = \"full_name\"")
    });
    assert_reported(
        &problems,
        ProblemKind::UnknownName,
        "variant1.toml",
        Some("name"),
        "`full_name`",
    );
}

#[test]
fn an_unknown_service_operation_is_named() {
    let problems = problems_after("variant1.toml", |t| {
        t.replace(
            "call = \"submit_application\"",
            "call = \"send_application\"",
        )
    });
    assert_reported(
        &problems,
        ProblemKind::UnknownName,
        "variant1.toml",
        Some("submit"),
        "`send_application`",
    );
}

#[test]
fn an_unknown_outcome_is_named() {
    let problems = problems_after("variant1.toml", |t| {
        t.replace("wrong_code = \".\"", "bad_code = \".\"")
    });
    assert_reported(
        &problems,
        ProblemKind::UnknownName,
        "variant1.toml",
        Some("code"),
        "`bad_code`",
    );
}

#[test]
fn a_duplicate_step_id_is_named() {
    let problems = problems_after("variant1.toml", |t| {
        t.replace("id = \"pending\"", "id = \"approved\"")
    });
    assert_reported(
        &problems,
        ProblemKind::Duplicate,
        "variant1.toml",
        Some("approved"),
        "",
    );
}

#[test]
fn a_duplicate_scenario_id_is_named() {
    let problems = problems_after("parent.toml", |t| {
        t.replace("id = \"parent\"", "id = \"variant1\"")
    });
    assert_reported(
        &problems,
        ProblemKind::Duplicate,
        "variant1.toml",
        None,
        "dialogues/parent.toml",
    );
}

#[test]
fn an_unknown_seed_id_is_named() {
    let problems = problems_after("variant1.toml", |t| {
        t.replace("seed = \"V1.3\"", "seed = \"V1.33\"")
    });
    assert_reported(
        &problems,
        ProblemKind::UnknownName,
        "variant1.toml",
        Some("code"),
        "`V1.33`",
    );
}

#[test]
fn an_unknown_field_is_rejected_with_its_line() {
    let problems = problems_after("menu.toml", |t| {
        t.replace("id = \"rules\"", "id = \"rules\"\ncolour = \"red\"")
    });
    assert_reported(
        &problems,
        ProblemKind::Unreadable,
        "menu.toml",
        None,
        "`colour`",
    );
}

#[test]
fn a_missing_engine_message_is_named() {
    let problems = problems_after("main.ftl", |t| t.replace("button-stale =", "button-old ="));
    assert_reported(
        &problems,
        ProblemKind::MissingMessage,
        "locales/ru",
        None,
        "`button-stale`",
    );
}

#[test]
fn an_operation_without_its_data_is_named() {
    // Submitting straight after the welcome: no code was checked, no name given.
    let problems = problems_after("variant1.toml", |t| {
        t.replacen("goto = \"contact\" },\n]", "goto = \"submit\" },\n]", 1)
    });
    assert_reported(
        &problems,
        ProblemKind::NotKnownHere,
        "variant1.toml",
        Some("submit"),
        "`submit_application`",
    );
}

#[test]
fn a_runtime_event_no_step_answers_is_named() {
    // Renaming the decision event in the scenario would silently drop decision notices.
    let problems = problems_after("variant1.toml", |t| {
        t.replace(
            "event = \"application_decided\"",
            "event = \"application_desided\"",
        )
    });
    assert_reported(
        &problems,
        ProblemKind::UnansweredEvent,
        "dialogues",
        None,
        "`application_decided`",
    );
    assert_reported(
        &problems,
        ProblemKind::UnknownName,
        "variant1.toml",
        Some("check_status"),
        "`application_desided`",
    );
}

#[test]
fn a_rejection_message_missing_is_named() {
    let problems = problems_after("main.ftl", |t| {
        t.replace("error-wrong-code =", "error-wrong-kode =")
    });
    assert_reported(
        &problems,
        ProblemKind::MissingMessage,
        "locales/ru",
        None,
        "`error-wrong-code`",
    );
}

#[test]
fn the_check_command_exits_non_zero_and_names_the_place() {
    let (_dir, dialogues) =
        edited_copy(|text| text.replace("next = \"confirm_contact\"", "next = \"nowhere\""));
    let run = |dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_sferum-bot"))
            .arg("check")
            .env("DIALOGUES_DIR", dir)
            .env("LOCALES_DIR", crate_dir().join("locales"))
            .output()
            .expect("the binary runs")
    };
    let broken = run(&dialogues);
    assert!(!broken.status.success());
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(
        stderr.contains("variant1.toml: step `contact`: unknown step target `nowhere`"),
        "{stderr}"
    );
    let shipped = run(&crate_dir().join("dialogues"));
    assert!(
        shipped.status.success(),
        "{}",
        String::from_utf8_lossy(&shipped.stderr)
    );
}

#[test]
fn the_check_command_fails_when_a_seed_id_is_not_delivered() {
    let (_dir, dialogues) = edited_copy(|text| text.replace("seed = \"R4\"\n", ""));
    let output = Command::new(env!("CARGO_BIN_EXE_sferum-bot"))
        .arg("check")
        .env("DIALOGUES_DIR", &dialogues)
        .env("LOCALES_DIR", crate_dir().join("locales"))
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("seed coverage: 32/33"), "{stdout}");
    assert!(stderr.contains("seed IDs no step delivers: R4"), "{stderr}");
}
