def test_spike(page, live_server, make_user, browser_log):
    r = page.goto(live_server.link("/"))
    print(r.status, page.evaluate("htmx.version"))
    r = page.goto(live_server.link("/nope"))
    print(r.status)
    page.goto(live_server.link("/signup"))
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Create account").click()
    print(nav.value.status, nav.value.url)
    import time; time.sleep(0.3)
    for p in browser_log.problems: print(p)
    browser_log.allow(".")
