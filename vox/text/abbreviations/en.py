"""English abbreviations: which ones may end a sentence, and the words that usually begin one."""

from __future__ import annotations

import re

from vox.text.abbreviations.table import Abbreviations

ABBREVIATIONS = Abbreviations(
    titles=frozenset(
        "mr mrs ms mx dr prof st mt ft rev hon gov sen rep gen col capt cpt lt sgt maj adm cmdr pres supt fr "
        "messrs mme mlle".split()
    ),
    continuing=frozenset("e.g i.e vs cf viz approx incl resp w.r.t".split()),
    final=frozenset("etc co inc ltd corp llc plc jr sr al bros esq".split()),
    numbered=frozenset(
        "no nos nr n° nº p pp vol vols fig figs ch chap sec sect art para pg eq ex op ed ver ca tel ref apt rm "
        "ste pt pts jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat "
        "sun".split()
    ),
    other=frozenset("dept univ assn bldg ave blvd rd hwy govt intl natl dist est avg max min hrs mins".split()),
    times=frozenset({"a.m", "p.m"}),
    fronted_time=re.compile(
        r"(?:at|by|before|after|until|till|from|since|around|about)\s+\d{1,2}(?::\d\d)?\s*[ap]\.m", re.IGNORECASE
    ),
    starters=frozenset(
        """a an the this that these those it its he she they we i you my our your his her their there here then
        but and so or yet however also what when where why how which if in on at for to with after before as
        once since while although though because unless please let note now today finally first second third
        next see did do does is are was were has have had being more most many some all each every both such
        one millions thanks thank yes""".split()
    ),
)
