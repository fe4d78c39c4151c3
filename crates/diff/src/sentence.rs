//! Sentence splitting for Chinese and Latin text.

/// Characters that end a sentence in CJK text (full-width forms included).
const CJK_TERMINATORS: &[char] = &['。', '！', '？', '；', '…', '!', '?'];

/// Closing quotes and brackets that belong to the sentence they follow.
const CLOSERS: &[char] = &['”', '’', '」', '』', '）', ')', '"', '\'', '》', '】', '〉'];

/// Splits `text` into sentences whose concatenation is `text` exactly.
/// Sentences end at `。！？；…` (and `!?`), at `.` followed by whitespace,
/// with closing quotes and brackets and trailing whitespace kept in the
/// sentence they close.
pub fn split_sentences(text: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((index, ch)) = chars.next() {
        let is_end = CJK_TERMINATORS.contains(&ch)
            || (ch == '.' && chars.peek().is_none_or(|(_, next)| next.is_whitespace()));
        if !is_end {
            continue;
        }
        let mut end = index + ch.len_utf8();
        while let Some(&(next_index, next)) = chars.peek() {
            if CJK_TERMINATORS.contains(&next) || next == '.' || CLOSERS.contains(&next) {
                end = next_index + next.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        while let Some(&(next_index, next)) = chars.peek() {
            if next.is_whitespace() {
                end = next_index + next.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        sentences.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        sentences.push(&text[start..]);
    }
    sentences
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_sentences_keep_their_closing_quotes() {
        let text = "他说：“我们会来。”然后离开了！真的吗？是的……好\n";
        assert_eq!(
            split_sentences(text),
            [
                "他说：“我们会来。”",
                "然后离开了！",
                "真的吗？",
                "是的……",
                "好\n"
            ]
        );
    }

    #[test]
    fn latin_sentences_split_after_space_not_inside_numbers() {
        let text = "It cost 2.1 million. \"Good,\" he said. Done!";
        assert_eq!(
            split_sentences(text),
            ["It cost 2.1 million. ", "\"Good,\" he said. ", "Done!"]
        );
    }

    #[test]
    fn concatenation_gives_the_text_back() {
        for text in ["", "no end", "a. b. c.", "。。。", "x。\n"] {
            assert_eq!(split_sentences(text).concat(), text);
        }
    }
}
