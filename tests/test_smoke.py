def test_landing(client):
    r = client.get("/")
    assert r.status_code == 200
    assert b"Reverb" in r.data


def test_signup_login(client, outbox):
    r = client.post("/signup", data={"name": "Róisín Test", "email": "ro@example.org",
                                     "password": "quiet-violet-tramline-88"})
    assert r.status_code == 303, r.data
    msgs = outbox()
    assert msgs[0].subject == "Confirm your e-mail address"
    r = client.login("ro@example.org", "quiet-violet-tramline-88")
    assert r.status_code == 303, r.data
    r = client.get("/me")
    assert "Róisín" in r.get_data(as_text=True)
