// Message text rules shared by every source (the shared data README, rules 5 and 8).

/** CRLF and lone CR become LF; surrounding whitespace (incl. U+3000 and NBSP) goes; inner whitespace stays. */
export function normalizeText(text: string): string {
  return (text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text).trim();
}

// Media the chat system replaced by a token. The corpus' own masking tokens
// ([数字x], [订单x], …) are real content and are not in this list.
const PLACEHOLDER_ONLY = /^(?:\s*\[(?:图片|表情|语音|视频|文件|动画表情)\])+\s*$/u;

/** Whether a normalized (trimmed) message is only media placeholders. */
export function isPlaceholderOnly(text: string): boolean {
  return text.startsWith('[') && PLACEHOLDER_ONLY.test(text);
}
