//! Free-text routing: a question typed in a person's own words lands on the step that answers
//! it, or, when two answers are close, the bot asks which one was meant.
//!
//! Every answer step carries example questions (its `phrases` and `questions/<scenario>.toml`),
//! the way Rasa NLU keeps training examples. A question and each example become two TF-IDF
//! vectors: Russian stems (Snowball via `rust-stemmers`, `ё` read as `е`, stop words dropped,
//! synonyms folded, a misspelt stem corrected to the closest known one) and character trigrams
//! of the words (sturdy against typos, slang endings and words split or run together). Their
//! cosine similarities are blended, a step scores as its best example, and the steps of the
//! scenario the person is in get a small bonus. Above `threshold` with a clear lead the step is
//! the answer; above `clarify_threshold` the two or three closest are offered; below, nothing:
//! better "I did not find it" than a wrong guess.

use std::collections::{BTreeSet, HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};

use crate::script::{Scripts, StepRef};

/// How much of the similarity comes from stems (the rest: character trigrams).
const STEM_WEIGHT: f64 = 0.4;
/// How much of an answer's score comes from its nearest examples (the rest: from all its
/// examples together, their centroid).
const NEAREST_WEIGHT: f64 = 0.5;
/// An answer's nearest examples: its best one and, with this weight, its next best ones.
const RUNNERS_UP_WEIGHT: f64 = 0.3;
/// How many of an answer's examples count in its score.
const TOP: usize = 3;
/// At most this many candidates are offered when the bot asks.
const MAX_CANDIDATES: usize = 3;
/// Candidates within this distance of the best one are offered with it.
const CANDIDATE_WINDOW: f64 = 0.12;

/// A step a question was routed to.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub step: StepRef,
    pub score: f64,
}

/// What a question means, as far as the router can tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Routing {
    /// One answer leads clearly.
    Answer(Route),
    /// Close candidates, best first: ask which was meant.
    Clarify(Vec<Route>),
    /// Nothing matches well enough.
    Nothing,
}

/// Where the person is: the scenarios whose answers are preferred.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    pub scenarios: BTreeSet<String>,
}

impl Context {
    /// The scenario `at` is in, and the scenarios it names as near.
    pub fn around(scripts: &Scripts, scenarios: &[&str]) -> Self {
        let mut set = BTreeSet::new();
        for id in scenarios {
            set.insert((*id).to_owned());
            if let Some(sc) = scripts.scenario(id) {
                set.extend(sc.near.iter().cloned());
            }
        }
        Self { scenarios: set }
    }
}

/// A sparse, L2-normalised vector of feature ids.
type Vector = Vec<(u32, f64)>;

struct Example {
    answer: usize,
    text: String,
}

pub struct Router {
    stemmer: Stemmer,
    stopwords: HashSet<String>,
    /// Normalised word or its stem → the stem it is read as.
    synonyms: HashMap<String, String>,
    /// The steps that answer questions.
    answers: Vec<StepRef>,
    examples: Vec<Example>,
    /// Feature name → id, for stems (`s:`) and trigrams (`g:`).
    features: HashMap<String, u32>,
    /// Inverse document frequency by feature id.
    idf: Vec<f64>,
    /// Feature id → the examples that have it, with its weight there.
    postings: Vec<Vec<(u32, f64)>>,
    /// Every stem the examples know, for spelling correction.
    stems: HashSet<String>,
    /// Stems that are an example by themselves, each of one answer only (a stem that is a
    /// one-word example of two answers answers neither).
    one_word: HashMap<String, usize>,
    /// The known stems by their length in characters: a misspelt stem is compared only with
    /// stems of a length its typos could give.
    stems_by_length: HashMap<usize, Vec<String>>,
    /// Per answer, the squared norm of the sum of its examples' vectors (stems, trigrams).
    centroid_norms: Vec<[f64; 2]>,
    /// Per example, its vector's dot product with its answer's sum (stems, trigrams), and its
    /// own squared norm: what leaving it out removes from the sum.
    own: Vec<([f64; 2], [f64; 2])>,
    threshold: f64,
    clarify_threshold: f64,
    margin: f64,
    context_bonus: f64,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("answers", &self.answers.len())
            .field("examples", &self.examples.len())
            .field("features", &self.features.len())
            .finish()
    }
}

impl Router {
    pub fn new(scripts: &Scripts) -> Self {
        let examples: Vec<(StepRef, &str)> = scripts
            .steps()
            .flat_map(|(at, step)| step.phrases.iter().map(move |p| (at.clone(), p.as_str())))
            .collect();
        Self::from_examples(scripts, &examples)
    }

    /// A router trained on `examples`.
    fn from_examples(scripts: &Scripts, examples: &[(StepRef, &str)]) -> Self {
        let rules = &scripts.routing;
        let mut router = Self {
            stemmer: Stemmer::create(Algorithm::Russian),
            stopwords: rules.stopwords.iter().map(|w| fold(w)).collect(),
            synonyms: HashMap::new(),
            answers: Vec::new(),
            examples: Vec::new(),
            features: HashMap::new(),
            idf: Vec::new(),
            postings: Vec::new(),
            stems: HashSet::new(),
            stems_by_length: HashMap::new(),
            one_word: HashMap::new(),
            centroid_norms: Vec::new(),
            own: Vec::new(),
            threshold: rules.threshold,
            clarify_threshold: rules.clarify_threshold,
            margin: rules.margin,
            context_bonus: rules.context_bonus,
        };
        for (word, meaning) in &rules.synonyms {
            let word = fold(word);
            let meaning = router.stem(&fold(meaning));
            router.synonyms.insert(router.stem(&word), meaning.clone());
            router.synonyms.insert(word, meaning);
        }
        let mut one_word: HashMap<String, BTreeSet<usize>> = HashMap::new();
        // Raw term counts first; weights need the document frequencies of every example.
        let mut raw: Vec<(usize, String, Vec<String>, Vec<String>)> = Vec::new();
        for (at, text) in examples {
            let answer = match router.answers.iter().position(|a| a == at) {
                Some(i) => i,
                None => {
                    router.answers.push(at.clone());
                    router.answers.len() - 1
                }
            };
            let words = router.words(text);
            let stems: Vec<String> = words.iter().map(|w| router.read(w)).collect();
            if stems.is_empty() {
                continue;
            }
            router.stems.extend(stems.iter().cloned());
            if let [only] = stems.as_slice() {
                one_word.entry(only.clone()).or_default().insert(answer);
            }
            raw.push((answer, (*text).to_owned(), stems, trigrams(&words)));
        }
        router.one_word = one_word
            .into_iter()
            .filter(|(_, answers)| answers.len() == 1)
            .filter_map(|(stem, answers)| answers.first().map(|a| (stem, *a)))
            .collect();
        let mut df: Vec<usize> = Vec::new();
        let mut ids: Vec<(usize, String, Vec<u32>, Vec<u32>)> = Vec::new();
        for (answer, text, stems, grams) in raw {
            let s = router.intern(stems.into_iter().map(|t| format!("s:{t}")), &mut df);
            let g = router.intern(grams.into_iter().map(|t| format!("g:{t}")), &mut df);
            for id in s.iter().chain(g.iter()).collect::<BTreeSet<_>>() {
                df[*id as usize] += 1;
            }
            ids.push((answer, text, s, g));
        }
        for stem in &router.stems {
            router
                .stems_by_length
                .entry(stem.chars().count())
                .or_default()
                .push(stem.clone());
        }
        for bucket in router.stems_by_length.values_mut() {
            bucket.sort();
        }
        let total = ids.len().max(1) as f64;
        router.idf = df
            .iter()
            .map(|&n| (1.0 + total / n.max(1) as f64).ln())
            .collect();
        // Each feature's list holds one entry per example that has it: sized to its document
        // frequency, the lists waste nothing (grown one push at a time, their spare capacity
        // was 0.25 MB of the idle bot's 2.9 MB heap).
        router.postings = df.iter().map(|&n| Vec::with_capacity(n)).collect();
        let mut sums: Vec<[HashMap<u32, f64>; 2]> =
            vec![[HashMap::new(), HashMap::new()]; router.answers.len()];
        let mut vectors = Vec::new();
        for (answer, text, s, g) in ids {
            let kinds = [router.vector(&s), router.vector(&g)];
            let index = router.examples.len() as u32;
            for (kind, vector) in kinds.iter().enumerate() {
                for (id, w) in vector {
                    router.postings[*id as usize].push((index, *w));
                    *sums[answer][kind].entry(*id).or_default() += w;
                }
            }
            router.examples.push(Example { answer, text });
            vectors.push(kinds);
        }
        router.centroid_norms = sums
            .iter()
            .map(|kinds| kinds.clone().map(|sum| sum.values().map(|w| w * w).sum()))
            .collect();
        router.own = router
            .examples
            .iter()
            .zip(&vectors)
            .map(|(example, kinds)| {
                let dot = |kind: usize| {
                    kinds[kind]
                        .iter()
                        .map(|(id, w)| {
                            w * sums[example.answer][kind].get(id).copied().unwrap_or(0.0)
                        })
                        .sum::<f64>()
                };
                let norm = |kind: usize| kinds[kind].iter().map(|(_, w)| w * w).sum::<f64>();
                ([dot(0), dot(1)], [norm(0), norm(1)])
            })
            .collect();
        router
    }

    /// The ids of feature `names`, new ones added (with a zero document frequency in `df`).
    fn intern(&mut self, names: impl Iterator<Item = String>, df: &mut Vec<usize>) -> Vec<u32> {
        names
            .map(|name| {
                let next = self.features.len() as u32;
                let id = *self.features.entry(name).or_insert(next);
                if id as usize >= df.len() {
                    df.push(0);
                }
                id
            })
            .collect()
    }

    /// The TF-IDF vector of feature ids, L2-normalised.
    fn vector(&self, ids: &[u32]) -> Vector {
        let mut counts: HashMap<u32, f64> = HashMap::new();
        for id in ids {
            *counts.entry(*id).or_default() += 1.0;
        }
        let mut v: Vector = counts
            .into_iter()
            .map(|(id, tf)| (id, tf * self.idf.get(id as usize).copied().unwrap_or(1.0)))
            .collect();
        let norm = v.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|(_, w)| *w /= norm);
        }
        v.sort_by_key(|(id, _)| *id);
        v
    }

    /// The norm of a question's features, unknown ones counted at the highest weight: words the
    /// examples never use make the question less like any of them.
    fn query(&self, names: impl Iterator<Item = String>) -> (Vec<(u32, f64)>, f64) {
        let unknown = self.idf.iter().copied().fold(1.0_f64, f64::max);
        let mut counts: HashMap<Option<u32>, f64> = HashMap::new();
        let mut unknown_mass = 0.0;
        for name in names {
            match self.features.get(&name) {
                Some(id) => *counts.entry(Some(*id)).or_default() += 1.0,
                None => unknown_mass += unknown * unknown,
            }
        }
        let v: Vec<(u32, f64)> = counts
            .into_iter()
            .filter_map(|(id, tf)| id.map(|id| (id, tf * self.idf[id as usize])))
            .collect();
        let norm = (v.iter().map(|(_, w)| w * w).sum::<f64>() + unknown_mass).sqrt();
        (v, norm)
    }

    fn stem(&self, word: &str) -> String {
        self.stemmer.stem(word).into_owned()
    }

    /// The meaningful words of `text`, folded, stop words dropped.
    fn words(&self, text: &str) -> Vec<String> {
        fold(text)
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .map(|w| w.trim_matches('-'))
            .filter(|w| !w.is_empty() && !self.stopwords.contains(*w))
            .map(str::to_owned)
            .collect()
    }

    /// The stem a word is read as, synonyms folded.
    fn read(&self, word: &str) -> String {
        match self.synonyms.get(word) {
            Some(meaning) => meaning.clone(),
            None => {
                let stem = self.stem(word);
                self.synonyms.get(&stem).cloned().unwrap_or(stem)
            }
        }
    }

    /// The known stem closest to a misspelt one, if it is close enough.
    fn correct(&self, stem: String) -> String {
        if self.stems.contains(&stem) {
            return stem;
        }
        let length = stem.chars().count();
        let allowed = match length {
            0..=3 => return stem,
            4..=6 => 1,
            _ => 2,
        };
        (length.saturating_sub(allowed)..=length + allowed)
            .filter_map(|l| self.stems_by_length.get(&l))
            .flatten()
            .map(|known| (strsim::damerau_levenshtein(&stem, known), known))
            .filter(|(distance, _)| *distance <= allowed)
            .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
            .map(|(_, known)| known.clone())
            .unwrap_or(stem)
    }

    /// Whether `text` uses a word the examples know (exactly, not by spelling correction): a
    /// typed name is made of words the bot does not otherwise know.
    pub fn knows_a_word(&self, text: &str) -> bool {
        self.words(text)
            .iter()
            .any(|w| self.stems.contains(&self.read(w)))
    }

    /// Each answer's score for `question`: mostly its best example, partly its next best ones,
    /// plus the context bonus. `left_out` is an example to ignore (leave-one-out).
    fn scores(&self, question: &str, context: &Context, left_out: Option<usize>) -> Vec<f64> {
        let words = self.words(question);
        let mut scores = vec![0.0; self.answers.len()];
        if words.is_empty() || self.examples.is_empty() {
            return scores;
        }
        let stems = words.iter().map(|w| self.correct(self.read(w)));
        let (stem_query, stem_norm) = self.query(stems.map(|s| format!("s:{s}")));
        let (gram_query, gram_norm) =
            self.query(trigrams(&words).into_iter().map(|g| format!("g:{g}")));
        let mut stem_dot = vec![0.0; self.examples.len()];
        let mut gram_dot = vec![0.0; self.examples.len()];
        for (query, norm, dots) in [
            (&stem_query, stem_norm, &mut stem_dot),
            (&gram_query, gram_norm, &mut gram_dot),
        ] {
            if norm == 0.0 {
                continue;
            }
            for (id, w) in query {
                for (example, ew) in &self.postings[*id as usize] {
                    dots[*example as usize] += w / norm * ew;
                }
            }
        }
        let mut best: Vec<[f64; TOP]> = vec![[0.0; TOP]; self.answers.len()];
        let mut centroid_dots: Vec<[f64; 2]> = vec![[0.0; 2]; self.answers.len()];
        for (i, example) in self.examples.iter().enumerate() {
            if left_out == Some(i) {
                continue;
            }
            centroid_dots[example.answer][0] += stem_dot[i];
            centroid_dots[example.answer][1] += gram_dot[i];
            let similarity = STEM_WEIGHT * stem_dot[i] + (1.0 - STEM_WEIGHT) * gram_dot[i];
            let top = &mut best[example.answer];
            if similarity > top[TOP - 1] {
                top[TOP - 1] = similarity;
                top.sort_by(|a, b| b.total_cmp(a));
            }
        }
        for (a, score) in scores.iter_mut().enumerate() {
            let top = &best[a];
            let rest = top[1..].iter().sum::<f64>() / (TOP - 1) as f64;
            let nearest = (1.0 - RUNNERS_UP_WEIGHT) * top[0] + RUNNERS_UP_WEIGHT * rest;
            let mut norms = self.centroid_norms[a];
            if let Some(out) = left_out.filter(|out| self.examples[*out].answer == a) {
                let (dot, own) = self.own[out];
                for kind in 0..2 {
                    norms[kind] -= 2.0 * dot[kind] - own[kind];
                }
            }
            let centroid = |kind: usize| {
                if norms[kind] > 1e-12 {
                    centroid_dots[a][kind] / norms[kind].sqrt()
                } else {
                    0.0
                }
            };
            let whole = STEM_WEIGHT * centroid(0) + (1.0 - STEM_WEIGHT) * centroid(1);
            *score = NEAREST_WEIGHT * nearest + (1.0 - NEAREST_WEIGHT) * whole;
        }
        for (score, at) in scores.iter_mut().zip(&self.answers) {
            // Only close calls: a weak match stays weak wherever the person is.
            let close = (self.threshold + self.clarify_threshold) / 2.0;
            if *score >= close && context.scenarios.contains(&at.scenario) {
                *score += self.context_bonus;
            }
        }
        scores
    }

    /// What `question` means, in `context`. A question of one meaningful word is answered
    /// only when that word is an example of one answer by itself («оператор», «техподдержка»),
    /// and is never asked about: «не знаю» or «отправить» is no topic.
    pub fn understand(&self, question: &str, context: &Context) -> Routing {
        let words = self.words(question);
        if let [word] = words.as_slice() {
            let stem = self.correct(self.read(word));
            return match self.one_word.get(&stem) {
                Some(answer) => Routing::Answer(Route {
                    step: self.answers[*answer].clone(),
                    score: 1.0,
                }),
                None => Routing::Nothing,
            };
        }
        self.decide(self.scores(question, context, None))
    }

    /// Each example routed as if it were not among the examples: (its text, its step, what
    /// the rest make of it). The left-out example still counts in the document frequencies and
    /// the spelling vocabulary, which can only make its own typos harder to read.
    pub fn leave_one_out(&self) -> Vec<(String, StepRef, Routing)> {
        self.examples
            .iter()
            .enumerate()
            .map(|(i, example)| {
                let scores = self.scores(&example.text, &Context::default(), Some(i));
                (
                    example.text.clone(),
                    self.answers[example.answer].clone(),
                    self.decide(scores),
                )
            })
            .collect()
    }

    fn decide(&self, scores: Vec<f64>) -> Routing {
        let mut ranked: Vec<Route> = scores
            .iter()
            .zip(&self.answers)
            .filter(|(score, _)| **score >= self.clarify_threshold)
            .map(|(score, at)| Route {
                step: at.clone(),
                score: *score,
            })
            .collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.step.cmp(&b.step)));
        let Some(best) = ranked.first() else {
            return Routing::Nothing;
        };
        let runner_up = ranked.get(1).map_or(0.0, |r| r.score);
        // Clearly ahead, or halfway there with no other candidate at all.
        let alone =
            ranked.len() == 1 && best.score >= (self.threshold + self.clarify_threshold) / 2.0;
        if alone || (best.score >= self.threshold && best.score - runner_up >= self.margin) {
            return Routing::Answer(best.clone());
        }
        let floor = best.score - CANDIDATE_WINDOW;
        ranked.retain(|r| r.score >= floor);
        ranked.truncate(MAX_CANDIDATES);
        Routing::Clarify(ranked)
    }

    /// The step that clearly answers `question` with no context, if any.
    pub fn route(&self, question: &str) -> Option<Route> {
        match self.understand(question, &Context::default()) {
            Routing::Answer(route) => Some(route),
            _ => None,
        }
    }
}

/// Character trigrams of each word, with `^` and `$` marking its ends.
fn trigrams(words: &[String]) -> Vec<String> {
    let mut grams = Vec::new();
    for word in words {
        let chars: Vec<char> = std::iter::once('^')
            .chain(word.chars())
            .chain(std::iter::once('$'))
            .collect();
        for window in chars.windows(3) {
            grams.push(window.iter().collect());
        }
    }
    grams
}

/// Lower case with `ё` read as `е`.
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}
