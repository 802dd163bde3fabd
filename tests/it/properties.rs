//! Property tests: whatever a user sends at whatever step, the engine does not panic, answers,
//! and leaves a valid session that survives serialisation.

use proptest::prelude::*;

use sferum_bot::engine::{Command, Input, Session};
use sferum_bot::script::StepRef;

use super::helpers::{engine, monday_morning};

/// Every step of the shipped scripts, as a place a session can be.
fn all_steps() -> Vec<StepRef> {
    engine().scripts().steps().map(|(at, _)| at).collect()
}

fn any_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        any::<String>().prop_map(Input::Text),
        "\\PC{0,4000}".prop_map(Input::Text),
        "[\\x00-\\x1f\\u{7f}\\u{200b}\\u{202e}]{0,50}".prop_map(Input::Text),
        "[0-9 +()-]{0,30}".prop_map(Input::Text),
        ".{0,80}".prop_map(|s| Input::from_text(&format!("/{s}"))),
        (any::<u32>(), 0usize..8).prop_map(|(offer, index)| Input::Button { offer, index }),
        (0u32..4, 0usize..4).prop_map(|(offer, index)| Input::Button { offer, index }),
        // Forged or damaged callback data, and teachers' buttons pressed by anyone.
        "[0-9]{1,4}:[0-9]{1,2}|[dri]:[a-z0-9:-]{0,12}|.{0,70}"
            .prop_map(|s| Input::from_callback(&s).unwrap_or(Input::Text(s))),
        prop_oneof![
            Just("idle".to_owned()),
            Just("application_decided".to_owned()),
            Just("diary_check".to_owned()),
            ".{0,20}",
        ]
        .prop_map(Input::Event),
        prop_oneof![
            Just(Command::Help),
            Just(Command::Back),
            Just(Command::Menu),
            Just(Command::Reset),
            Just(Command::Unknown),
            Just(Command::Invite),
            Just(Command::Pending),
            Just(Command::Lang(None)),
            Just(Command::Lang(Some("en".into()))),
        ]
        .prop_map(Input::Command),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_input_at_any_step_leaves_a_valid_session(
        step in prop::sample::select(all_steps()),
        inputs in prop::collection::vec(any_input(), 1..6),
    ) {
        let engine = engine();
        let now = monday_morning();
        let mut session = Session::new(&engine.scripts().version, "ru", now);
        session.fresh = false;
        session.at = step;
        for input in inputs {
            let is_outcome = matches!(input, Input::Outcome(_));
            let is_event = matches!(input, Input::Event(_));
            let turn = engine.take_turn(session, input, now);
            session = turn.session.clone();
            prop_assert!(engine.scripts().step(&session.at).is_some(), "left at {}", session.at);
            // Every input answers, except a service's answer or an outside event that does not
            // concern this conversation (both are silent by design).
            let silent_by_design = is_outcome || is_event;
            prop_assert!(silent_by_design || !turn.is_silent(), "the user got no answer");
            for say in &turn.says {
                prop_assert!(
                    sferum_bot::runtime::render(engine.locales(), &session.lang, say).is_ok()
                        || say.args.keys().all(|k| k == "support_contact"),
                    "message {} did not render", say.message
                );
            }
            let json = serde_json::to_string(&session).expect("serialises");
            let back: Session = serde_json::from_str(&json).expect("deserialises");
            // What the next turn starts from is what this one left.
            prop_assert_eq!(&engine.restored(back), &session);
            if session.awaiting.is_some() {
                // The runtime would call the service now; a new message means it never answered.
                session.awaiting = None;
            }
        }
    }
}
