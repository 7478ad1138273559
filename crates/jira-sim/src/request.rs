//! What a request asks to see: the `fields=` and `expand=` parameters, parsed.

/// Which fields a request asked for (`fields=` parameter).
#[derive(Clone, Debug)]
pub struct FieldSel {
    all: bool,
    navigable: bool,
    include: Vec<String>,
    exclude: Vec<String>,
}

impl FieldSel {
    /// Parses `fields` values (comma-separated, possibly repeated); `default` applies when none given.
    pub fn parse<'a>(values: impl Iterator<Item = &'a str>, default: &str) -> FieldSel {
        let mut sel = FieldSel {
            all: false,
            navigable: false,
            include: Vec::new(),
            exclude: Vec::new(),
        };
        let mut any = false;
        for v in values {
            for f in v.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                any = true;
                sel.add(f);
            }
        }
        if !any {
            for f in default.split(',') {
                sel.add(f);
            }
        }
        sel
    }

    fn add(&mut self, f: &str) {
        match f {
            "*all" => self.all = true,
            "*navigable" => self.navigable = true,
            x if x.starts_with('-') => self.exclude.push(x[1..].to_string()),
            x => self.include.push(x.to_string()),
        }
    }

    pub fn wants(&self, id: &str, navigable: bool) -> bool {
        if self.exclude.iter().any(|e| e == id) {
            return false;
        }
        self.all || (self.navigable && navigable) || self.include.iter().any(|i| i == id)
    }

    /// Only `id`/`key` were asked for (search/jql's default).
    pub fn is_empty(&self) -> bool {
        !self.all && !self.navigable && self.include.iter().all(|i| i == "id" || i == "key")
    }
}

/// What `expand=` asked for.
#[derive(Clone, Copy, Debug, Default)]
pub struct Expand {
    pub names: bool,
    pub rendered: bool,
    pub changelog: bool,
    pub transitions: bool,
    pub editmeta: bool,
    pub schema: bool,
}

impl Expand {
    pub fn parse<'a>(values: impl Iterator<Item = &'a str>) -> Expand {
        let mut e = Expand::default();
        for v in values {
            for x in v.split(',').map(str::trim) {
                match x {
                    "names" => e.names = true,
                    "renderedFields" => e.rendered = true,
                    "changelog" => e.changelog = true,
                    "transitions" => e.transitions = true,
                    "editmeta" => e.editmeta = true,
                    "schema" => e.schema = true,
                    _ => {}
                }
            }
        }
        e
    }
}
