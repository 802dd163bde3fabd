//! Typed answers at a step with buttons: which offered button a typed text means, and courtesy
//! answered in place. Built once from `listening.toml`; pure.
//!
//! A button is understood by its label typed exactly, with typos or in part («войти в акаунт»,
//! «изменить»), by its number, by the extra phrases a script gives it («это мой номер»), or by a
//! meaning its label carries (yes and no words at a question, role words at the role question).
//! More specific evidence wins: a label or a phrase beats a bare «да»; a tie is no answer.
//! Courtesy (greetings, thanks, «?», «не понял») is recognised only when it is the whole
//! message, so «добрый вечер, сын скинул ссылку» is still a question.

use std::collections::{HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};

use crate::script::ListeningRules;

use super::route::fold;

/// How strongly a typed text means a button (higher wins).
const EXACT: u32 = 100;
const PHRASE: u32 = 95;
const LABEL_WITHIN: u32 = 85;
const LABEL_PART: u32 = 55;
const LABEL_PART_RANGE: u32 = 25;
/// What a word beside a part of a label costs.
const STRAY_WORD: u32 = 10;
const MEANING: u32 = 50;
const NEGATED: u32 = 45;
/// How short a message with a negation must be to mean «Не получается».
const NEGATED_WORDS: usize = 5;
/// The best button must lead the next by this much.
const LEAD: u32 = 10;
/// Words a typed answer may add around a label or a phrase.
const EXTRA_WORDS: usize = 4;

/// One offered button, as the person sees it.
#[derive(Debug, Clone)]
pub struct Offered<'a> {
    /// The label as shown.
    pub text: String,
    /// Its Fluent id (meanings are given by id).
    pub label: &'a str,
    /// Extra phrases that mean it.
    pub phrases: &'a [String],
}

/// A kind of courtesy, recognised in a whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Courtesy {
    /// The Fluent id to answer with.
    pub say: String,
    /// Answer with the step's help when it has one.
    pub step_help: bool,
}

struct CourtesyKind {
    phrases: Vec<Vec<String>>,
    /// Raw forms made of punctuation only («?», «...»).
    marks: Vec<String>,
    stems: Vec<String>,
    reply: Courtesy,
}

pub struct Listener {
    /// Russian stems, so that «родителям» is «Родителю».
    stemmer: Stemmer,
    /// Label id → the phrases (as words) of every meaning it carries.
    meanings: HashMap<String, Vec<Vec<String>>>,
    /// Labels whose meaning any short message with a negation carries («пароль не подходит»
    /// is «Не получается»).
    negated_labels: HashSet<String>,
    /// Words that may stand around a meaning word («ну да», «да это его номер»).
    fillers: HashSet<String>,
    /// Words that turn a label around («не получается»): a match must agree on them.
    negations: HashSet<String>,
    courtesy: Vec<CourtesyKind>,
    name_lead_ins: Vec<Vec<String>>,
    name_diminutives: HashSet<String>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("labels with meanings", &self.meanings.len())
            .field("courtesy", &self.courtesy.len())
            .finish()
    }
}

impl Listener {
    pub fn new(rules: &ListeningRules) -> Self {
        let mut meanings: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        let negated_labels = rules
            .meanings
            .values()
            .filter(|m| m.negated)
            .flat_map(|m| m.labels.iter().cloned())
            .collect();
        for meaning in rules.meanings.values() {
            let phrases: Vec<Vec<String>> = meaning.words.iter().map(|w| words(w)).collect();
            for label in &meaning.labels {
                meanings
                    .entry(label.clone())
                    .or_default()
                    .extend(phrases.iter().cloned());
            }
        }
        let courtesy = rules
            .courtesy
            .values()
            .map(|rule| {
                let (marks, phrases): (Vec<&String>, Vec<&String>) =
                    rule.words.iter().partition(|w| words(w).is_empty());
                CourtesyKind {
                    phrases: phrases.into_iter().map(|w| words(w)).collect(),
                    marks: marks.into_iter().map(|m| m.trim().to_owned()).collect(),
                    stems: rule.stems.iter().map(|s| fold(s)).collect(),
                    reply: Courtesy {
                        say: rule.say.clone(),
                        step_help: rule.step_help,
                    },
                }
            })
            .collect();
        Self {
            stemmer: Stemmer::create(Algorithm::Russian),
            meanings,
            negated_labels,
            fillers: rules.fillers.iter().map(|w| fold(w)).collect(),
            negations: rules.negations.iter().map(|w| fold(w)).collect(),
            courtesy,
            name_lead_ins: rules.name_lead_ins.iter().map(|w| words(w)).collect(),
            name_diminutives: rules.name_diminutives.iter().map(|w| fold(w)).collect(),
        }
    }

    /// The offered button `text` means, if one clearly does.
    pub fn button(&self, text: &str, offered: &[Offered<'_>]) -> Option<usize> {
        let typed = words(text);
        if typed.is_empty() {
            return None;
        }
        if let [only] = typed.as_slice() {
            if let Ok(n) = only.parse::<usize>() {
                return (1..=offered.len()).contains(&n).then(|| n - 1);
            }
        }
        let labels: Vec<Vec<String>> = offered.iter().map(|b| words(&b.text)).collect();
        let mut scores: Vec<u32> = (0..offered.len())
            .map(|i| self.score(&typed, &offered[i], &labels, i))
            .collect();
        let best = *scores.iter().max()?;
        if best == 0 {
            return None;
        }
        let index = scores.iter().position(|s| *s == best)?;
        scores[index] = 0;
        let runner_up = scores.iter().copied().max().unwrap_or(0);
        (best >= runner_up + LEAD).then_some(index)
    }

    /// How strongly `typed` means button `index` of `offered` (whose labels' words are
    /// `labels`).
    fn score(
        &self,
        typed: &[String],
        button: &Offered<'_>,
        labels: &[Vec<String>],
        index: usize,
    ) -> u32 {
        let label = &labels[index];
        if squeeze(typed) == squeeze(label) {
            return EXACT;
        }
        let mut best = 0;
        for phrase in button.phrases {
            let phrase = words(phrase);
            if self.contains_all(typed, &phrase) {
                best = best.max(PHRASE);
            }
        }
        let content: Vec<&String> = label.iter().filter(|w| is_content(w)).collect();
        if !content.is_empty() && self.same_negation(typed, label) {
            if self.contains_all(typed, label) {
                best = best.max(LABEL_WITHIN);
            }
            // Part of the label, with at most one other word that is not a filler
            // («пригласить маму» for «Пригласить родителя»). That part names the label only if
            // no other label shares it («госуслуги» is on «нет Госуслуг» and «есть Госуслуги»).
            let typed_content: Vec<&String> = typed
                .iter()
                .filter(|w| is_content(w) && !self.fillers.contains(*w))
                .collect();
            let (matched, unmatched): (Vec<&String>, Vec<&String>) = typed_content
                .iter()
                .partition(|t| label.iter().any(|l| self.same_word(t, l)));
            let distinctive = matched.iter().any(|t| {
                labels
                    .iter()
                    .enumerate()
                    .all(|(j, other)| j == index || !other.iter().any(|o| self.same_word(t, o)))
            });
            if distinctive && unmatched.len() <= 1 && matched.len() >= unmatched.len() {
                let covered = content
                    .iter()
                    .filter(|l| typed.iter().any(|t| self.same_word(t, l)))
                    .count() as u32;
                let score = LABEL_PART + LABEL_PART_RANGE * covered / content.len() as u32;
                best = best.max(score - STRAY_WORD * unmatched.len() as u32);
            }
        }
        if let Some(phrases) = self.meanings.get(button.label) {
            if self.only_meaning(typed, phrases) {
                best = best.max(MEANING);
            }
        }
        let negated = typed.iter().any(|w| self.negations.contains(w));
        if negated && typed.len() <= NEGATED_WORDS && self.negated_labels.contains(button.label) {
            best = best.max(NEGATED);
        }
        best
    }

    /// Every word of `phrase` is in `typed` (spelling-tolerant), with few words besides, and
    /// both agree on negation.
    fn contains_all(&self, typed: &[String], phrase: &[String]) -> bool {
        !phrase.is_empty()
            && typed.len() <= phrase.len() + EXTRA_WORDS
            && self.same_negation(typed, phrase)
            && phrase
                .iter()
                .all(|p| typed.iter().any(|t| self.same_word(t, p)))
    }

    fn same_negation(&self, a: &[String], b: &[String]) -> bool {
        let negated = |ws: &[String]| ws.iter().any(|w| self.negations.contains(w));
        negated(a) == negated(b)
    }

    /// `typed` holds one of a meaning's phrases whole, and nothing but its words and fillers
    /// («ну да давайте»).
    fn only_meaning(&self, typed: &[String], phrases: &[Vec<String>]) -> bool {
        let whole = |p: &Vec<String>| {
            !p.is_empty() && p.iter().all(|w| typed.iter().any(|t| self.same_word(t, w)))
        };
        phrases.iter().any(whole)
            && typed.iter().all(|t| {
                self.fillers.contains(t) || phrases.iter().flatten().any(|w| self.same_word(t, w))
            })
    }

    /// The courtesy a whole message is, if it is nothing else.
    pub fn courtesy(&self, text: &str) -> Option<&Courtesy> {
        let typed = words(text);
        if typed.is_empty() {
            let raw = text.trim();
            return self
                .courtesy
                .iter()
                .find(|k| {
                    !raw.is_empty()
                        && k.marks
                            .iter()
                            .any(|m| raw.chars().all(|c| m.contains(c) || c.is_whitespace()))
                })
                .map(|k| &k.reply);
        }
        self.courtesy
            .iter()
            .find(|kind| {
                let covered = |t: &String| {
                    self.fillers.contains(t)
                        || kind
                            .phrases
                            .iter()
                            .any(|p| p.len() == 1 && self.same_word(t, &p[0]))
                        || kind
                            .phrases
                            .iter()
                            .any(|p| p.len() > 1 && p.contains(t) && self.has_phrase(&typed, p))
                };
                kind.phrases.iter().any(|p| self.has_phrase(&typed, p)) && typed.iter().all(covered)
            })
            .map(|k| &k.reply)
    }

    /// Whether a message holds a word from a kind's `stems` (rude words): answered calmly when
    /// nothing else in it is understood.
    pub fn rude(&self, text: &str) -> Option<&Courtesy> {
        let typed = words(text);
        self.courtesy
            .iter()
            .find(|k| {
                typed
                    .iter()
                    .any(|t| k.stems.iter().any(|s| t.starts_with(s.as_str())))
            })
            .map(|k| &k.reply)
    }

    fn has_phrase(&self, typed: &[String], phrase: &[String]) -> bool {
        !phrase.is_empty()
            && typed
                .windows(phrase.len())
                .any(|w| w.iter().zip(phrase).all(|(t, p)| self.same_word(t, p)))
    }

    /// Whether a child's name looks unlike the documents: Latin letters, or a short form of a
    /// first name («Маша»).
    pub fn doubtful_name(&self, name: &str) -> bool {
        name.chars().any(|c| c.is_ascii_alphabetic())
            || words(name)
                .iter()
                .any(|w| self.name_diminutives.contains(w))
    }

    /// `text` without the words people put before a name («его зовут», «фио ребёнка»).
    pub fn strip_name_lead_in(&self, text: &str) -> String {
        let mut rest: Vec<&str> = text.split_whitespace().collect();
        loop {
            let folded: Vec<String> = rest.iter().map(|w| words(w).join(" ")).collect();
            let lead = self.name_lead_ins.iter().find(|lead| {
                !lead.is_empty()
                    && lead.len() < rest.len()
                    && lead.iter().zip(&folded).all(|(l, w)| l == w)
            });
            match lead {
                Some(lead) => rest.drain(..lead.len()),
                None => return rest.join(" "),
            };
        }
    }
}

/// The words of `text`: lower case, `ё` as `е`, letters and digits only.
fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The words run together: «5 а» is «5а».
fn squeeze(words: &[String]) -> String {
    words.concat()
}

/// A word that carries the label's meaning: three letters or more, or a number.
fn is_content(word: &str) -> bool {
    word.chars().count() >= 3 || word.chars().all(|c| c.is_ascii_digit())
}

impl Listener {
    /// The same word: the same stem, or one typo from four letters on (two from ten).
    fn same_word(&self, a: &str, b: &str) -> bool {
        if a == b {
            return true;
        }
        let (shorter, longer) = {
            let (x, y) = (a.chars().count(), b.chars().count());
            (x.min(y), x.max(y))
        };
        let allowed = match longer {
            _ if shorter < 3 => return false,
            0..=3 => return false,
            4..=9 => 1,
            _ => 2,
        };
        strsim::damerau_levenshtein(a, b) <= allowed || self.stemmer.stem(a) == self.stemmer.stem(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{CourtesyRule, Meaning};

    fn listener() -> Listener {
        let mut rules = ListeningRules::default();
        rules.meanings.insert(
            "yes".into(),
            Meaning {
                words: vec!["yes".into(), "sure".into()],
                labels: vec!["btn-yes".into()],
                negated: false,
            },
        );
        rules.meanings.insert(
            "no".into(),
            Meaning {
                words: vec!["no".into()],
                labels: vec!["btn-change".into()],
                negated: false,
            },
        );
        rules.fillers = vec!["it".into(), "is".into(), "his".into(), "number".into()];
        rules.negations = vec!["not".into()];
        rules.courtesy.insert(
            "thanks".into(),
            CourtesyRule {
                words: vec!["thanks".into(), "thank you".into()],
                stems: vec![],
                say: "courtesy-thanks".into(),
                step_help: false,
            },
        );
        rules.courtesy.insert(
            "confused".into(),
            CourtesyRule {
                words: vec!["?".into(), "help".into()],
                stems: vec!["damn".into()],
                say: "courtesy-confused".into(),
                step_help: true,
            },
        );
        rules.name_lead_ins = vec!["name is".into(), "name".into()];
        Listener::new(&rules)
    }

    fn offered<'a>(labels: &'a [(&'a str, &'a str)], phrases: &'a [String]) -> Vec<Offered<'a>> {
        labels
            .iter()
            .map(|(id, text)| Offered {
                text: (*text).to_owned(),
                label: id,
                phrases,
            })
            .collect()
    }

    const CHECK: &[(&str, &str)] = &[
        ("btn-yes", "It is the child's"),
        ("btn-change", "Change the number or email"),
    ];

    #[test]
    fn labels_are_understood_with_typos_in_part_and_by_number() {
        let l = listener();
        let b = offered(CHECK, &[]);
        assert_eq!(l.button("change the numbr or email", &b), Some(1));
        assert_eq!(l.button("it is the chidl's", &b), Some(0));
        assert_eq!(l.button("change", &b), Some(1));
        assert_eq!(l.button("2", &b), Some(1));
        assert_eq!(l.button("3", &b), None);
        assert_eq!(l.button("something else entirely", &b), None);
    }

    #[test]
    fn meanings_need_nothing_but_fillers_around_them() {
        let l = listener();
        let b = offered(CHECK, &[]);
        assert_eq!(l.button("yes", &b), Some(0));
        assert_eq!(l.button("sure it is his number", &b), Some(0));
        assert_eq!(l.button("no", &b), Some(1));
        assert_eq!(l.button("no code arrived", &b), None);
        assert_eq!(l.button("yes no", &b), None, "a tie is no answer");
    }

    #[test]
    fn a_phrase_beats_a_bare_meaning_and_negation_must_agree() {
        let l = listener();
        let phrases = vec!["my number".to_owned()];
        let b = vec![
            Offered {
                text: "Yes".into(),
                label: "btn-yes",
                phrases: &[],
            },
            Offered {
                text: "Change".into(),
                label: "btn-change",
                phrases: &phrases,
            },
        ];
        assert_eq!(l.button("yes it is my number", &b), Some(1));
        let trouble = [("btn-trouble", "It does not work")];
        let t = offered(&trouble, &[]);
        assert_eq!(l.button("it works", &t), None);
        assert_eq!(l.button("does not work", &t), Some(0));
    }

    #[test]
    fn courtesy_is_a_whole_message_and_rude_words_are_found_anywhere() {
        let l = listener();
        assert_eq!(
            l.courtesy("Thank you!").map(|c| c.say.as_str()),
            Some("courtesy-thanks")
        );
        assert_eq!(
            l.courtesy("??").map(|c| c.say.as_str()),
            Some("courtesy-confused")
        );
        assert_eq!(l.courtesy("thanks, how do I invite a parent"), None);
        assert!(l.rude("damned bot").is_some());
        assert!(l.rude("a fine bot").is_none());
    }

    #[test]
    fn name_lead_ins_are_dropped() {
        let l = listener();
        assert_eq!(l.strip_name_lead_in("name is Ivanov Ivan"), "Ivanov Ivan");
        assert_eq!(l.strip_name_lead_in("Ivanov Ivan"), "Ivanov Ivan");
        assert_eq!(l.strip_name_lead_in("name"), "name");
    }
}
