"""Bodies from other systems → Parley's safe HTML, and WordPress posts → article Markdown."""

from parley.imports.html import as_markdown, clean, markdown, sanitise

GONE = 'class="parley-gone"'


def test_html_bodies_are_made_safe_with_images_as_links_and_gone_hosts_marked() -> None:
    html = clean(
        'First line\nsecond\n\n<img src="https://uploads.disquscdn.com/images/a.jpg" alt="cat">'
        '<script>alert(1)</script><a href="javascript:alert(2)">x</a> <b>bold</b>'
    )
    assert html.startswith("<p>First line<br>second</p><p>")
    assert f'<a href="https://uploads.disquscdn.com/images/a.jpg" {GONE}' in html
    assert "script" not in html and "javascript" not in html and "<b>bold</b>" in html
    assert sanitise(html) == html  # Parley's own HTML comes back from an export unchanged


def test_isso_markdown_keeps_its_inline_html_safely() -> None:
    html = markdown('**Bold** <b onclick="x()">raw</b> ![i](https://media.disqus.com/i.png)')
    assert "<strong>Bold</strong> <b>raw</b>" in html and "onclick" not in html
    assert GONE in html


def test_imported_html_keeps_attributes_on_links_only() -> None:
    # nh3 allows `title` and `lang` on every tag unless told otherwise: a tooltip anywhere.
    html = markdown('<p title="Hi" lang="ar">x <a href="https://x.org" title="t" lang="de">y</a>')
    assert html == '<p>x <a href="https://x.org" title="t" rel="nofollow ugc noopener">y</a></p>'
    assert clean('<p title="Click">x <b title="b">y</b></p>') == "<p>x <b>y</b></p>"


def test_a_wordpress_post_becomes_readable_markdown() -> None:
    body = as_markdown(
        '[caption id="c1"]<img src="https://x.org/mill.jpg" alt="The mill"> At dusk.[/caption]'
        "\n\n<p>Text [sic] <em>here</em>\nnext line</p><script>alert('from post')</script>"
        '[gallery ids="55,56"][contact-form-7 id="12" title="Tips"]'
        "<blockquote><p>We had no choice.</p><cite>Mayor</cite></blockquote>"
        "<table><tr><th>Name</th><th>Share</th></tr><tr><td>Smith</td><td>52%</td></tr></table>"
        "[embed]https://video.example/v_1[/embed]"
    )
    assert [part.strip() for part in body.split("\n\n")] == [
        "[🖼 The mill](https://x.org/mill.jpg)",
        "At dusk.",
        "Text \\[sic\\] *here*  \nnext line",
        "> We had no choice.\n>\n> *Mayor*",
        "Name | Share",
        "Smith | 52%",
        "<https://video.example/v_1>",
    ]
