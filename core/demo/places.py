"""Where the demo's orders happen: its legal entities, their zones, head offices and malls.

The demo's stores (``core.demo.plan``) are dealt from these tables; nothing here depends on the
seed, so the demo users' scopes hold for every build.
"""
from __future__ import annotations

from dataclasses import dataclass

BRANDS = ("Reserved", "Cropp", "House", "Mohito", "Sinsay")


@dataclass(frozen=True)
class LegalEntity:
    name: str
    zone: str
    online_only: bool  # an e-commerce company: every store of it is a web shop


DEFAULT_LEGAL_ENTITIES = (
    LegalEntity("Reserved Retail SRL", "RO", False),
    LegalEntity("LPP Polska Sp. z o.o.", "PL", False),
    LegalEntity("LPP Poland Online Sp. z o.o.", "PL", True),
    LegalEntity("Reserved RU LLC", "RU", False),
)

# Per zone: the offset of local time from UTC (no daylight saving: hours only need to look
# realistic), the head office that web shops are registered at, and the malls of its stores, in
# an order that spreads the first few stores over many regions.
ZONES = {
    "PL": {
        "utc_offset": 3600,
        "office": ("Pomorskie", "ul. Łąkowa 39/44, 80-769 Gdańsk"),
        "malls": (
            ("Mazowieckie", "Warszawa", "Arkadia", "al. Jana Pawła II 82, 00-175 Warszawa"),
            ("Małopolskie", "Kraków", "Galeria Krakowska", "ul. Pawia 5, 31-154 Kraków"),
            ("Pomorskie", "Gdańsk", "Galeria Bałtycka", "al. Grunwaldzka 141, 80-264 Gdańsk"),
            ("Śląskie", "Katowice", "Silesia City Center", "ul. Chorzowska 107, 40-101 Katowice"),
            ("Wielkopolskie", "Poznań", "Posnania", "ul. Pleszewska 1, 61-136 Poznań"),
            ("Dolnośląskie", "Wrocław", "Wroclavia", "ul. Sucha 1, 50-086 Wrocław"),
            ("Łódzkie", "Łódź", "Manufaktura", "ul. Karskiego 5, 91-071 Łódź"),
            ("Mazowieckie", "Warszawa", "Złote Tarasy", "ul. Złota 59, 00-120 Warszawa"),
            ("Małopolskie", "Kraków", "Bonarka City Center", "ul. Kamieńskiego 11, 30-644 Kraków"),
            ("Pomorskie", "Gdynia", "Riviera", "ul. Kazimierza Górskiego 2, 81-304 Gdynia"),
            ("Mazowieckie", "Warszawa", "Galeria Mokotów", "ul. Wołoska 12, 02-675 Warszawa"),
            ("Wielkopolskie", "Poznań", "Stary Browar", "ul. Półwiejska 42, 61-888 Poznań"),
            ("Śląskie", "Katowice", "Galeria Katowicka", "ul. 3 Maja 30, 40-097 Katowice"),
            ("Dolnośląskie", "Wrocław", "Magnolia Park", "ul. Legnicka 58, 54-204 Wrocław"),
            ("Łódzkie", "Łódź", "Galeria Łódzka", "al. Piłsudskiego 15/23, 90-307 Łódź"),
            ("Mazowieckie", "Radom", "Galeria Słoneczna", "ul. Chrobrego 1, 26-600 Radom"),
        ),
    },
    "RO": {
        "utc_offset": 7200,
        "office": ("Bucharest", "Calea Floreasca 169A, 014459 București"),
        "malls": (
            ("Bucharest", "București", "AFI Cotroceni", "Bd. General Vasile Milea 4, București"),
            ("Cluj", "Cluj-Napoca", "Iulius Mall", "Str. Alexandru Vaida Voevod 53B, Cluj-Napoca"),
            ("Timiș", "Timișoara", "Iulius Town", "Piața Consiliul Europei 2, Timișoara"),
            ("Iași", "Iași", "Palas Mall", "Str. Palas 7A, Iași"),
            ("Constanța", "Constanța", "City Park Mall",
             "Bd. Alexandru Lăpușneanu 116C, Constanța"),
            ("Brașov", "Brașov", "Coresi Shopping Resort", "Str. Zaharia Stancu 1, Brașov"),
            ("Bucharest", "București", "Băneasa Shopping City",
             "Șos. București-Ploiești 42D, București"),
            ("Cluj", "Cluj-Napoca", "VIVO!", "Str. Avram Iancu 492, Florești"),
            ("Bucharest", "București", "ParkLake", "Str. Liviu Rebreanu 4, București"),
            ("Bucharest", "București", "Mega Mall", "Bd. Pierre de Coubertin 3-5, București"),
        ),
    },
    "RU": {
        "utc_offset": 10800,
        "office": ("Moscow", "Москва, Ленинградский проспект, 39, стр. 80"),
        "malls": (
            ("Moscow", "Moscow", "Aviapark", "Москва, Ходынский бульвар, 4, ТРЦ «Авиапарк»"),
            ("Saint Petersburg", "Saint Petersburg", "Galeria",
             "Санкт-Петербург, Лиговский проспект, 30А"),
            ("Tatarstan", "Kazan", "Mega Kazan", "Казань, проспект Победы, 141"),
            ("Sverdlovsk Oblast", "Yekaterinburg", "Greenwich", "Екатеринбург, ул. 8 Марта, 46"),
            ("Novosibirsk Oblast", "Novosibirsk", "Aura", "Новосибирск, ул. Военная, 5"),
            ("Moscow", "Moscow", "Evropeisky", "Москва, площадь Киевского Вокзала, 2"),
            ("Moscow Oblast", "Khimki", "Mega Khimki", "Химки, Ленинградская ул., вл. 39, стр. 6"),
            ("Saint Petersburg", "Saint Petersburg", "Mega Dybenko",
             "Ленинградская обл., Мурманское шоссе, 12-й км, 1"),
        ),
    },
}
ZONE_ORDER = ("PL", "RO", "RU")  # zones of generated legal entities beyond the default four
WEB_LABELS = ("Online", "App", "Marketplace")
