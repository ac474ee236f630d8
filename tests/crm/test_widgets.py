"""FastSelect renders what Django's Select renders."""

from django import forms

from crm.widgets import FastSelect


class Form(forms.Form):
    plain = forms.ChoiceField(choices=[("", "Any"), ("a", "Ä & <b>"), ("b", "বি")], required=False,
                              widget=forms.Select(attrs={"class": "x"}))
    fast = forms.ChoiceField(choices=[("", "Any"), ("a", "Ä & <b>"), ("b", "বি")], required=False,
                             widget=FastSelect(attrs={"class": "x"}))


def test_fast_select_renders_the_same_options_and_selection_as_select():
    form = Form({"plain": "b", "fast": "b"})
    form.is_valid()
    plain = str(form["plain"]).replace('name="plain"', 'name="f"').replace('id="id_plain"', 'id="i"')
    fast = str(form["fast"]).replace('name="fast"', 'name="f"').replace('id="id_fast"', 'id="i"')
    assert " ".join(fast.split()).replace("> <", "><") == " ".join(plain.split()).replace("> <", "><")
    assert "&lt;b&gt;" in fast and 'value="b" selected' in fast
