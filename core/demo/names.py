"""The demo's name tables: customers' e-mail parts, sales people, garments, hours and phone forms.

Each choice of a demo order (``core.db.demo_data``) picks from these tables by a hash of the order
and the seed; repeated entries weight a choice.
"""
from __future__ import annotations

# Customers' e-mail parts (ASCII, as people type them), female and male first names and surnames.
EMAIL_NAMES = {
    "PL": (
        ("anna", "kasia", "magda", "agnieszka", "joanna", "ola", "monika", "zuzia", "marta", "ewa"),
        ("nowak", "kowalska", "wisniewska", "wojcik",
         "kaminska", "lewandowska", "zielinska", "mazur"),
        ("piotr", "tomek", "michal", "pawel", "lukasz", "janek", "kamil", "krzysztof"),
        ("nowak", "kowalski", "wisniewski", "wojcik",
         "kaminski", "lewandowski", "zielinski", "mazur"),
    ),
    "RO": (
        ("andreea", "elena", "ioana", "maria", "alexandra", "cristina", "diana", "raluca"),
        ("popescu", "ionescu", "popa", "dumitru", "stan", "stoica", "gheorghe", "matei"),
        ("andrei", "mihai", "alex", "ionut", "florin", "vlad", "radu", "cosmin"),
        ("popescu", "ionescu", "popa", "dumitru", "stan", "stoica", "gheorghe", "matei"),
    ),
    "RU": (
        ("anna", "maria", "elena", "olga", "natalia", "tatiana", "irina", "ksenia"),
        ("ivanova", "smirnova", "kuznetsova", "popova",
         "vasilieva", "petrova", "sokolova", "volkova"),
        ("alexey", "dmitry", "sergey", "andrey", "ivan", "maxim", "pavel", "nikita"),
        ("ivanov", "smirnov", "kuznetsov", "popov", "vasiliev", "petrov", "sokolov", "volkov"),
    ),
}
# Repeated entries weight the choice.
EMAIL_DOMAINS = {
    "PL": ("wp.pl", "wp.pl", "gmail.com", "gmail.com",
           "gmail.com", "o2.pl", "onet.pl", "interia.pl"),
    "RO": ("yahoo.ro", "yahoo.ro", "yahoo.com", "gmail.com", "gmail.com", "gmail.com"),
    "RU": ("mail.ru", "mail.ru", "yandex.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru"),
}
# Sales people's names as the merchant cabinet shows them, in the zone's own script.
STAFF_NAMES = {
    "PL": (
        ("Anna", "Katarzyna", "Magdalena", "Agnieszka",
         "Joanna", "Małgorzata", "Monika", "Aleksandra"),
        ("Nowak", "Kowalska", "Wiśniewska", "Wójcik",
         "Kamińska", "Lewandowska", "Zielińska", "Dąbrowska"),
        ("Piotr", "Tomasz", "Michał", "Paweł", "Łukasz", "Krzysztof", "Kamil", "Marcin"),
        ("Nowak", "Kowalski", "Wiśniewski", "Wójcik",
         "Kamiński", "Lewandowski", "Zieliński", "Dąbrowski"),
    ),
    "RO": (
        ("Andreea", "Elena", "Ioana", "Maria", "Alexandra", "Cristina", "Diana", "Raluca"),
        ("Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica", "Gheorghe", "Matei"),
        ("Andrei", "Mihai", "Alexandru", "Ionuț", "Florin", "Vlad", "Radu", "Cosmin"),
        ("Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica", "Gheorghe", "Matei"),
    ),
    "RU": (
        ("Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Ксения"),
        ("Иванова", "Смирнова", "Кузнецова", "Попова",
         "Васильева", "Петрова", "Соколова", "Волкова"),
        ("Алексей", "Дмитрий", "Сергей", "Андрей", "Иван", "Максим", "Павел", "Никита"),
        ("Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Волков"),
    ),
}

# Garments: name, regular unit price in cents, size kind (0 clothes, 1 shoes, 2 no size).
GARMENTS = (
    ("Slim fit jeans", 13999, 0), ("Mom jeans", 14999, 0), ("Cotton T-shirt", 3999, 0),
    ("Basic T-shirt 2-pack", 4999, 0), ("Oversize hoodie", 11999, 0), ("Knitted sweater", 12999, 0),
    ("Linen shirt", 9999, 0), ("Oxford shirt", 10999, 0), ("Midi dress", 15999, 0),
    ("Satin slip dress", 17999, 0), ("Pleated skirt", 8999, 0), ("Wide-leg trousers", 13999, 0),
    ("Chino trousers", 11999, 0), ("Denim jacket", 19999, 0), ("Wool blend coat", 49999, 0),
    ("Puffer jacket", 29999, 0), ("Trench coat", 39999, 0), ("Tailored blazer", 24999, 0),
    ("Leggings", 4999, 0), ("Pyjama set", 7999, 0), ("Leather sneakers", 17999, 1),
    ("Chelsea boots", 22999, 1), ("Ankle boots", 19999, 1), ("Sandals", 8999, 1),
    ("Leather belt", 5999, 2), ("Crossbody bag", 8999, 2), ("Backpack", 11999, 2),
    ("Wool scarf", 6999, 2), ("Beanie", 3999, 2), ("Cotton socks", 999, 2),
    ("Socks 3-pack", 1999, 2), ("Sunglasses", 4999, 2),
)
COLOURS = ("black", "white", "navy", "beige", "grey", "khaki", "cream", "burgundy", "light blue",
            "olive", "pink", "brown")
CLOTHES_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SHOE_SIZES = tuple(str(n) for n in range(36, 46))

# Local hour of an order, as weights per hour 0–23: web shops peak in the evening, stores are
# open 9–22.
ONLINE_HOURS = (2, 1, 1, 0, 0, 1, 2, 3, 4, 5, 5, 5, 6, 5, 5, 5, 5, 5, 6, 7, 8, 9, 6, 4)
OFFLINE_HOURS = (0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 6, 8, 9, 8, 8, 9, 11, 12, 11, 8, 4, 1, 0)

# How customers type their phone numbers, per zone: (below this share in %, prefix, grouped
# digits or not); the rest of the number is 9 digits without the trunk prefix.
PHONE_FORMS = {
    "PL": ((3, "0048 ", True), (8, "", False), (100, "+48 ", True)),
    "RO": ((8, "0", True), (100, "+40 ", True)),
    "RU": ((5, "8 ", True), (100, "+7 ", True)),
}

