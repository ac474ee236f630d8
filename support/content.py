"""Message bodies: Markdown or HTML in, sanitised HTML and plain text out (nh3, the Ammonia sanitiser).

Everything a customer or an agent writes passes through here before it is stored, so a `<script>` or an
`onerror=` in a mail never reaches a page (templates still autoescape everything else).
"""

import html
import re

import markdown
import nh3

_TAGS = {"a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "li", "ol", "p",
         "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul", "img"}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"alt", "src"}, "td": {"colspan", "rowspan"},
               "th": {"colspan", "rowspan"}}
_BLOCK_END = re.compile(r"</(p|div|li|h[1-4]|tr|blockquote|pre)>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_html(raw: str) -> str:
    """Sanitised HTML: safe tags only, links get rel="noopener noreferrer nofollow", images only over https."""
    return nh3.clean(raw or "", tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow", strip_comments=True).strip()


def markdown_to_html(text: str) -> str:
    """An agent's reply (Markdown, raw HTML escaped first) as sanitised HTML."""
    return clean_html(markdown.markdown(html.escape(text or "", quote=False), extensions=["nl2br", "sane_lists"]))


def text_to_html(text: str) -> str:
    """Plain text (a customer's form or text mail) as HTML paragraphs, escaped."""
    paragraphs = [p for p in re.split(r"\n\s*\n", (text or "").strip()) if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def html_to_text(value: str) -> str:
    """Sanitised HTML as plain text (for the timeline, search and the plain part of e-mails)."""
    text = _BLOCK_END.sub("\n", value or "")
    text = html.unescape(_TAG.sub("", text))
    return _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in text.splitlines())).strip()
