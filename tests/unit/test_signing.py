"""The yy signer against every worked example in PROTOCOL.md §5.1."""

import pytest

from hailuo_tui.provider.signing import (
    QUERY_ORDER,
    build_query,
    encode_uri_component,
    message_body_digest,
    md5_hex,
    sign,
    sign_json,
    sign_message,
    strip_line_breaks,
    unix_of,
)

Q = (
    "device_platform=web&biz_id=2&app_id=3001&version_code=22201&lang=en"
    "&uuid=11111111-2222-4333-8444-555555555555&device_id=240000000000000001&os_name=Windows"
    "&browser_name=chrome&cpu_core_num=8&browser_language=en-US&browser_platform=Win32"
    "&screen_width=1920&screen_height=1080&unix=1737800000000"
)
UNIX = 1737800000000
MSG = "/v4/api/chat/msg?" + Q
FORM_D = (
    '[{"name":"","formType":2,"content":"a.png","fileID":"300000000000000001"},'
    '{"name":"","formType":1,"content":"describe"}]'
)


def test_example_a_intermediate_values():
    assert md5_hex("1") == "c4ca4238a0b923820dcc509a6f75849b"
    assert strip_line_breaks("Hello!\nWhat is 2+2?") == "Hello!What is 2+2?"
    assert md5_hex("Hello!What is 2+2?") == "4b1c3a4f241196af737470dce21afe63"
    assert md5_hex("0") == "cfcd208495d565ef66e7dff9f98764da"
    assert message_body_digest("1", "Hello!\nWhat is 2+2?", "0") == (
        "c4ca4238a0b923820dcc509a6f75849b4b1c3a4f241196af737470dce21afe63"
        "cfcd208495d565ef66e7dff9f98764dad41d8cd98f00b204e9800998ecf8427e"
    )
    assert md5_hex(str(UNIX)) == "2c12c12c58b11a2ab47f2b34fc202b68"
    assert encode_uri_component(MSG).startswith("%2Fv4%2Fapi%2Fchat%2Fmsg%3Fdevice_platform%3Dweb%26biz_id%3D2")


@pytest.mark.parametrize(
    "name,path_and_query,fields,expected",
    [
        ("A", MSG, ("1", "Hello!\nWhat is 2+2?", "0", None), "a2901b84434e32518eed1d4094f38acf"),
        ("A-crlf", MSG, ("1", "Hello!\r\nWhat is 2+2?", "0", None), "a2901b84434e32518eed1d4094f38acf"),
        ("B", MSG, ("1", "And times 3?", "248123456789012345", None), "0294960e32aee84628bfac7ded08b57f"),
        ("C", MSG, ("1", "你好", "0", None), "56be2e517e3a5ec638d022c0fee2e7ad"),
        ("D", MSG, ("1", "describe", "0", FORM_D), "62eec5a3bfd890a94f427297940c73b9"),
    ],
)
def test_message_vectors(name, path_and_query, fields, expected):
    character_id, content, chat_id, form = fields
    assert sign_message(path_and_query, UNIX, character_id, content, chat_id, form) == expected


def test_vector_b_digests():
    assert md5_hex("And times 3?") == "1aadf290f11bdc1eaeb4fe52bee76e79"
    assert md5_hex("248123456789012345") == "7e6fb83eb8aa64bb409edb4182c92be6"
    assert md5_hex("你好") == "7eca689f0d3389d9dea66ae112e5cfd7"
    assert md5_hex(FORM_D) == "9f115541e3e21c13ba2d171166bc680f"


def test_json_vectors():
    assert sign_json("/v1/api/user/info?" + Q, UNIX) == "0a5945aed0b358c3b4b5cd006a848106"
    q_no_device = Q.replace("&device_id=240000000000000001", "")
    body = '{"uuid":"11111111-2222-4333-8444-555555555555"}'
    assert sign_json("/v1/api/user/device/register?" + q_no_device, UNIX, body) == "792ef2e40eef4b09206b376659231306"
    assert sign_json("/v1/api/chat/history/248123456789012345?" + Q, UNIX) == "c42c49472d4ac206f874f7161a909251"


def test_short_vector_v():
    pq = "/v4/api/chat/msg?device_platform=web&biz_id=2&app_id=3001"
    assert sign_message(pq, 1700000000000, "1", "hello world", "0") == "6893d64988ecf45b1de1808b91ae855b"


def test_missing_form_is_md5_of_empty_not_undefined():
    assert message_body_digest("1", "x", "0").endswith("d41d8cd98f00b204e9800998ecf8427e")
    assert "5e543256" not in message_body_digest("1", "x", "0")


def test_js_and_python_variants_differ_only_on_reserved_marks():
    assert encode_uri_component("a!b", variant="js") == "a!b"
    assert encode_uri_component("a!b", variant="python") == "a%21b"
    assert sign("/p?a=1", "{}", 1) != sign("/p?a=1!", "{}", 1)
    assert sign("/p?a=1", "{}", 1) == sign("/p?a=1", "{}", 1, variant="python")


def test_build_query_order_and_unix():
    q = build_query("u-1", "240000000000000001", 123)
    keys = [pair.split("=")[0] for pair in q.split("&")]
    assert keys == [k for k in QUERY_ORDER if k in keys]
    assert unix_of(q) == "123"
    assert "device_id" not in build_query("u-1", None, 5)
    assert "browser_platform=Linux+x86_64" in q  # URLSearchParams form encoding
