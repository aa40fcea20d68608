"""The queries the search benchmarks send: a mix people repeat, and a large pool of distinct new ones.

A new query is "<verb> <object>", "<verb> <object> <qualifier>" or "<verb> <object> <preposition>
<object>" (parse a date, send an email from the request, validate a form with a token, ...), the way
people describe what code should do; there are about 500,000 of them, in a fixed pseudo-random order,
so that two runs send the same queries and a run never sends one twice.
"""
from __future__ import annotations

import random

# Common searches, as people repeat them (the cached phase cycles through these).
REPEATED = [
    "send mail", "send an email to the site admins", "parse a date", "parse a duration string",
    "validate an email address", "validate a url", "hash a password", "check the user's password",
    "render a template", "read a file in chunks", "compress a response with gzip", "escape html",
    "strip tags from html", "slugify a string", "paginate a list of objects", "create a database table",
    "format a number with thousands separators", "generate a random string", "sign a value with a secret key",
    "parse an http header", "set a cookie on the response", "redirect to a url", "cache a value",
    "translate a string", "convert camel case to underscores", "make a datetime timezone aware",
    "serialize objects to json", "upload a file", "check permissions of a user", "log in a user",
    "open a database connection", "decode base64", "truncate text to a number of words",
    "build an absolute url", "get the csrf token", "encode a query string", "compare two strings in constant time",
    "load a python module by name", "find the static files", "run database migrations",
]

VERBS = ("parse validate send read write render check create delete update find load save convert format "
         "encode decode escape sign compare sort filter split join build get set open close cache hash "
         "compress serialize register clean copy count merge list reset").split()
OBJECTS = ("date;time zone;url;email;password;template;file;response;request;cookie;header;session;"
           "user;group;permission;form;field;model;query;database table;migration;signal;storage;"
           "static file;json;string;number;list;dictionary;query string;token;secret key;message;"
           "widget;admin page;middleware;cache key;timestamp;locale;translation;path;directory;"
           "image;csv row;html tag;slug;content type;http status;redirect").split(";")
QUALIFIERS = ("from a string;to a string;of a user;for the admin;in the database;with a timeout;"
              "in chunks;by name;as json;on the response;from the request;with a default;"
              "in utc;for a model;of a file;if it changed;without escaping;from settings;"
              "in a template;with a prefix").split(";")


def _article(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeio" else f"a {noun}"  # a url, a user


PREPOSITIONS = ("for", "in", "with", "from", "to")


def distinct_queries(seed: int = 19) -> list[str]:
    """Every query of the pool once, in a fixed shuffled order (none of them in REPEATED)."""
    queries = [f"{verb} {_article(noun)}" for verb in VERBS for noun in OBJECTS]
    queries += [f"{verb} {_article(noun)} {qualifier}" for verb in VERBS for noun in OBJECTS
                for qualifier in QUALIFIERS]
    queries += [f"{verb} {_article(noun)} {preposition} {_article(other)}" for verb in VERBS for noun in OBJECTS
                for preposition in PREPOSITIONS for other in OBJECTS if other != noun]
    repeated = set(REPEATED)
    queries = [q for q in dict.fromkeys(queries) if q not in repeated]
    random.Random(seed).shuffle(queries)
    return queries
