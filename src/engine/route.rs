//! Free-text routing: a question typed instead of a button press lands on the step that answers
//! it. Questions and the steps' `phrases` are reduced to Russian stems (Snowball, via
//! `rust-stemmers`), with `ё` read as `е`, stop words dropped and synonyms folded; a misspelt word
//! is matched to the closest known stem. Each phrase scores by the weighted share of its words
//! the question has (rare words weigh more), tempered by how much of the question is left
//! unexplained. Below the threshold the router answers `None`: better "I did not find it" than a
//! wrong guess.

use std::collections::{BTreeSet, HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};

use crate::script::{Scripts, StepRef};

/// How much of the score comes from covering the phrase (the rest: not leaving the question's
/// words unexplained).
const RECALL_WEIGHT: f64 = 0.7;

/// A step a question was routed to.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub step: StepRef,
    pub score: f64,
}

struct Phrase {
    step: StepRef,
    terms: BTreeSet<String>,
}

pub struct Router {
    stemmer: Stemmer,
    stopwords: HashSet<String>,
    /// Normalised word or its stem → the stem it is read as.
    synonyms: HashMap<String, String>,
    phrases: Vec<Phrase>,
    /// Inverse document frequency of each known stem.
    weights: HashMap<String, f64>,
    threshold: f64,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("phrases", &self.phrases.len())
            .field("stems", &self.weights.len())
            .finish()
    }
}

impl Router {
    pub fn new(scripts: &Scripts) -> Self {
        let rules = &scripts.routing;
        let stemmer = Stemmer::create(Algorithm::Russian);
        let stopwords: HashSet<String> = rules.stopwords.iter().map(|w| fold(w)).collect();
        let mut router = Self {
            stemmer,
            stopwords,
            synonyms: HashMap::new(),
            phrases: Vec::new(),
            weights: HashMap::new(),
            threshold: rules.threshold,
        };
        for (word, meaning) in &rules.synonyms {
            let word = fold(word);
            let meaning = router.stem(&fold(meaning));
            router.synonyms.insert(router.stem(&word), meaning.clone());
            router.synonyms.insert(word, meaning);
        }
        for (at, step) in scripts.steps() {
            for phrase in &step.phrases {
                let terms: BTreeSet<String> = router.terms(phrase).into_iter().collect();
                if !terms.is_empty() {
                    router.phrases.push(Phrase {
                        step: at.clone(),
                        terms,
                    });
                }
            }
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for phrase in &router.phrases {
            for term in &phrase.terms {
                *counts.entry(term).or_default() += 1;
            }
        }
        let total = router.phrases.len().max(1) as f64;
        router.weights = counts
            .into_iter()
            .map(|(term, n)| (term.to_owned(), (1.0 + total / n as f64).ln()))
            .collect();
        router
    }

    fn stem(&self, word: &str) -> String {
        self.stemmer.stem(word).into_owned()
    }

    /// The meaningful stems of `text`, synonyms folded.
    fn terms(&self, text: &str) -> Vec<String> {
        fold(text)
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .map(|w| w.trim_matches('-'))
            .filter(|w| !w.is_empty() && !self.stopwords.contains(*w))
            .map(|w| match self.synonyms.get(w) {
                Some(meaning) => meaning.clone(),
                None => {
                    let stem = self.stem(w);
                    self.synonyms.get(&stem).cloned().unwrap_or(stem)
                }
            })
            .collect()
    }

    /// The known stem closest to a misspelt one, if it is close enough.
    fn correct(&self, stem: &str) -> Option<&str> {
        if self.weights.contains_key(stem) {
            return self.weights.get_key_value(stem).map(|(k, _)| k.as_str());
        }
        let length = stem.chars().count();
        let allowed = match length {
            0..=3 => return None,
            4..=6 => 1,
            _ => 2,
        };
        self.weights
            .keys()
            .filter(|known| known.chars().count().abs_diff(length) <= allowed)
            .map(|known| (strsim::damerau_levenshtein(stem, known), known))
            .filter(|(distance, _)| *distance <= allowed)
            .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
            .map(|(_, known)| known.as_str())
    }

    /// The step that answers `question`, if one matches well enough.
    pub fn route(&self, question: &str) -> Option<Route> {
        let terms = self.terms(question);
        if terms.is_empty() || self.phrases.is_empty() {
            return None;
        }
        let unknown_weight = self
            .weights
            .values()
            .copied()
            .fold(0.0_f64, f64::max)
            .max(1.0);
        let mut known = BTreeSet::new();
        let mut unexplained = 0.0;
        for term in &terms {
            match self.correct(term) {
                Some(stem) => {
                    known.insert(stem.to_owned());
                }
                None => unexplained += unknown_weight,
            }
        }
        let weight = |t: &String| self.weights.get(t).copied().unwrap_or(0.0);
        let question_weight: f64 = known.iter().map(weight).sum::<f64>() + unexplained;
        let mut best: Option<Route> = None;
        for phrase in &self.phrases {
            let matched: f64 = phrase.terms.intersection(&known).map(weight).sum();
            if matched == 0.0 {
                continue;
            }
            let phrase_weight: f64 = phrase.terms.iter().map(weight).sum();
            let recall = matched / phrase_weight;
            let precision = matched / question_weight;
            let score = RECALL_WEIGHT * recall + (1.0 - RECALL_WEIGHT) * precision;
            if best.as_ref().is_none_or(|b| score > b.score) {
                best = Some(Route {
                    step: phrase.step.clone(),
                    score,
                });
            }
        }
        best.filter(|b| b.score >= self.threshold)
    }
}

/// Lower case with `ё` read as `е`.
fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}
