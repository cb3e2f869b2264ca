//! The event table's filter: by type, by thread and by text. Type and thread are checked on the
//! index; text needs the events' text, so the loader answers it with the matching seqs.

use super::index::EventIndex;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Type ids hidden from the table.
    pub hidden_types: Vec<u16>,
    /// Only this thread (an index into `EventIndex::threads`).
    pub thread: Option<u16>,
    /// The text typed in the filter box.
    pub text: String,
    /// The seqs (sorted) of the events whose text matches `matched_text`, once the loader
    /// has answered.
    pub matches: Option<Vec<i64>>,
    pub matched_text: String,
}

impl Filter {
    /// Whether anything is filtered out.
    pub fn is_active(&self) -> bool {
        !self.hidden_types.is_empty() || self.thread.is_some() || !self.text.trim().is_empty()
    }

    /// Whether the text filter waits for the loader.
    pub fn text_pending(&self) -> bool {
        !self.text.trim().is_empty() && (self.matches.is_none() || self.matched_text != self.text)
    }

    /// The positions of the events shown, in time order. While a text query is pending, the
    /// previous answer (or none) applies.
    pub fn apply(&self, index: &EventIndex) -> Vec<u32> {
        let text = (!self.text.trim().is_empty())
            .then_some(self.matches.as_deref())
            .flatten();
        let mut hidden = vec![false; index.types.len()];
        for &t in &self.hidden_types {
            if let Some(h) = hidden.get_mut(usize::from(t)) {
                *h = true;
            }
        }
        index
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| !hidden.get(usize::from(e.ty)).copied().unwrap_or(false))
            .filter(|(_, e)| self.thread.is_none_or(|t| e.thread == t))
            .filter(|(_, e)| text.is_none_or(|m| m.binary_search(&e.seq).is_ok()))
            .map(|(i, _)| i as u32)
            .collect()
    }

    pub fn toggle_type(&mut self, ty: u16) {
        match self.hidden_types.iter().position(|&t| t == ty) {
            Some(i) => {
                self.hidden_types.remove(i);
            }
            None => self.hidden_types.push(ty),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::index::tests::index_of;

    #[test]
    fn filters_by_type_thread_and_text() {
        let mut ix = index_of(&["user.message", "agent.message", "user.message", "span.x"]);
        ix.threads.push("sthr_a".into());
        ix.events[2].thread = 1;
        let mut f = Filter::default();
        assert_eq!(f.apply(&ix), [0, 1, 2, 3]);
        let user = ix.type_id("user.message").expect("type");
        f.toggle_type(user);
        assert_eq!(f.apply(&ix), [1, 3]);
        f.toggle_type(user);
        f.thread = Some(1);
        assert_eq!(f.apply(&ix), [2]);
        f.thread = None;
        f.text = "hello".into();
        assert!(f.text_pending());
        assert_eq!(
            f.apply(&ix).len(),
            4,
            "no answer yet: nothing filtered by text"
        );
        f.matches = Some(vec![ix.events[1].seq, ix.events[3].seq]);
        f.matched_text = "hello".into();
        assert!(!f.text_pending());
        assert_eq!(f.apply(&ix), [1, 3]);
        assert!(f.is_active());
    }
}
