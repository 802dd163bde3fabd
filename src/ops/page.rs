//! The `/stats` page: the funnel of the main scenarios as inline SVG bars (one per step, its
//! stalled part in red, with the counts and the drop-off), the registration service's error
//! rate and the outbox's backlog. Plain HTML, no script, readable on a phone; every word comes
//! from the locale (`ops-*` messages), and nothing on it names a person.

use std::fmt::Write as _;

use super::funnel::{Funnel, MAIN_SCENARIOS};
use crate::i18n::{Arg, Args, Locales};
use crate::script::{Msg, Scripts, StepRef};

/// What the page shows besides the funnel.
#[derive(Debug, Clone, Copy, Default)]
pub struct Health {
    /// Service calls since this process started, and how many failed.
    pub calls: u64,
    pub failed: u64,
    /// Notices due and waiting, and the oldest one's wait in seconds.
    pub due: usize,
    pub oldest_secs: u64,
}

const ROW: u32 = 26;
const LABEL: u32 = 170;
const BAR: u32 = 220;
const WIDTH: u32 = LABEL + BAR + 110;

/// Escapes text for HTML and SVG.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn say(locales: &Locales, lang: &str, message: Msg, args: &Args) -> String {
    locales
        .format(lang, message.id(), args)
        .unwrap_or_else(|_| message.id().to_owned())
}

/// The whole page in `lang`.
pub fn render(
    scripts: &Scripts,
    locales: &Locales,
    lang: &str,
    funnel: &Funnel,
    days: u32,
    health: Health,
) -> String {
    let plain = |m: Msg| escape(&say(locales, lang, m, &Args::new()));
    let mut args = Args::new();
    args.insert("days".into(), Arg::Num(i64::from(days)));
    let period = escape(&say(locales, lang, Msg::OpsPeriod, &args));
    #[allow(clippy::cast_precision_loss)]
    let rate = if health.calls == 0 {
        "—".to_owned()
    } else {
        format!("{:.1}%", 100.0 * health.failed as f64 / health.calls as f64)
    };
    let mut args = Args::new();
    args.insert(
        "calls".into(),
        Arg::Num(i64::try_from(health.calls).unwrap_or(i64::MAX)),
    );
    args.insert(
        "failed".into(),
        Arg::Num(i64::try_from(health.failed).unwrap_or(i64::MAX)),
    );
    args.insert("rate".into(), rate.into());
    let service = escape(&say(locales, lang, Msg::OpsService, &args));
    let mut args = Args::new();
    args.insert(
        "due".into(),
        Arg::Num(i64::try_from(health.due).unwrap_or(i64::MAX)),
    );
    args.insert(
        "oldest".into(),
        Arg::Num(i64::try_from(health.oldest_secs).unwrap_or(i64::MAX)),
    );
    let outbox = escape(&say(locales, lang, Msg::OpsOutbox, &args));
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:1rem;max-width:44rem;color:#222}}\
         h1{{font-size:1.3rem}}h2{{font-size:1.1rem;margin-top:1.6rem}}\
         svg{{width:100%;height:auto}}.muted{{color:#666}}\
         </style></head><body>\n<h1>{title}</h1>\n<p class=\"muted\">{period}</p>\n\
         <p id=\"service\">{service}</p>\n<p id=\"outbox\">{outbox}</p>\n<p class=\"muted\">{legend}</p>\n",
        lang = escape(lang),
        title = plain(Msg::OpsTitle),
        legend = plain(Msg::OpsLegend),
    );
    for id in MAIN_SCENARIOS {
        let Some(scenario) = scripts.scenario(id) else {
            continue;
        };
        let title = locales
            .format(lang, &scenario.title, &Args::new())
            .unwrap_or_else(|_| id.to_owned());
        let _ = writeln!(page, "<h2>{}</h2>", escape(&title));
        let rows: Vec<(String, StepRef)> = scenario
            .steps
            .iter()
            .map(|s| {
                let label = match s.progress {
                    Some(n) => format!("{n}. {}", s.id),
                    None => s.id.clone(),
                };
                (label, StepRef::new(id, &s.id))
            })
            .collect();
        let most = rows
            .iter()
            .map(|(_, at)| funnel.at(at).entered)
            .max()
            .unwrap_or(0);
        if most == 0 {
            let _ = writeln!(page, "<p class=\"muted\">{}</p>", plain(Msg::OpsNobodyYet));
        }
        page.push_str(&bars(id, &rows, funnel, most, &plain));
    }
    page.push_str("</body></html>\n");
    page
}

/// One scenario's bars.
fn bars(
    scenario: &str,
    rows: &[(String, StepRef)],
    funnel: &Funnel,
    most: u64,
    plain: &dyn Fn(Msg) -> String,
) -> String {
    let height = ROW * u32::try_from(rows.len()).unwrap_or(0) + 8;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg class=\"funnel\" data-scenario=\"{s}\" viewBox=\"0 0 {WIDTH} {height}\" \
         role=\"img\" aria-label=\"{s}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\">",
        s = escape(scenario)
    );
    let scale = |n: u64| -> u32 {
        if most == 0 {
            return 0;
        }
        u32::try_from(n.saturating_mul(u64::from(BAR)) / most).unwrap_or(BAR)
    };
    for (i, (label, at)) in rows.iter().enumerate() {
        let c = funnel.at(at);
        let y = 4 + ROW * u32::try_from(i).unwrap_or(0);
        let drop = c
            .drop_off_percent()
            .map_or_else(String::new, |p| format!(" · {p:.0}%"));
        let _ = writeln!(
            svg,
            "<g class=\"step\" data-step=\"{step}\" data-entered=\"{e}\" data-stalled=\"{st}\">\
             <text x=\"0\" y=\"{ty}\">{label}</text>\
             <rect class=\"entered\" x=\"{LABEL}\" y=\"{y}\" width=\"{we}\" height=\"18\" fill=\"#4a78c2\">\
             <title>{e} {entered}</title></rect>\
             <rect class=\"stalled\" x=\"{LABEL}\" y=\"{y}\" width=\"{ws}\" height=\"18\" fill=\"#d04a3a\">\
             <title>{st} {stalled}</title></rect>\
             <text x=\"{tx}\" y=\"{ty}\">{e}{drop}</text></g>",
            step = escape(&at.to_string()),
            e = c.entered,
            st = c.stalled,
            ty = y + 13,
            label = escape(label),
            we = scale(c.entered),
            ws = scale(c.stalled.min(c.entered)),
            tx = LABEL + scale(c.entered) + 6,
            entered = plain(Msg::OpsEntered),
            stalled = plain(Msg::OpsStalled),
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            escape("<b>\"x\" & 'y'</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;"
        );
    }
}
