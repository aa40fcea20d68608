"""npm packages as a corpus source: `npm pack` of a curated list of well-documented libraries (JSDoc
on most functions, unminified source in the tarball: packages that publish only `dist/` bundles,
such as the d3 modules, give nothing) into CACHE/npm, one unit per package."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from training.sources import Downloads, Unit, run
from training.sources.archives import unpack

PACKAGES = (
    "lodash", "underscore", "ramda", "async", "bluebird", "q", "moment", "moment-timezone", "dayjs", "luxon",
    "date-fns", "three", "leaflet", "ol", "phaser", "pixi.js", "matter-js", "paper", "fabric", "konva",
    "google-closure-library", "cesium", "handsontable", "plotly.js", "mocha", "sinon", "chai", "ethers",
    "bootstrap", "jsdoc", "grunt",
    "express", "koa", "connect", "body-parser", "morgan", "cookie", "send", "serve-static", "finalhandler",
    "axios", "superagent", "node-fetch", "ws", "socket.io", "engine.io", "mongoose", "mongodb", "sequelize",
    "knex", "pg", "mysql", "ioredis", "redis", "eslint", "espree", "esquery", "acorn", "esprima", "escodegen",
    "estraverse", "uglify-js", "terser", "postcss", "less", "stylus", "jsdom", "cheerio", "htmlparser2",
    "handlebars", "mustache", "nunjucks", "ejs", "pug", "marked", "markdown-it", "showdown", "highlight.js",
    "prismjs", "commander", "yargs", "minimist", "inquirer", "chalk", "debug", "winston", "pino", "bunyan",
    "glob", "minimatch", "micromatch", "fs-extra", "graceful-fs", "chokidar", "semver", "uuid", "bn.js",
    "big.js", "decimal.js", "bignumber.js", "numeral", "mathjs", "crypto-js", "node-forge", "jsonwebtoken",
    "passport", "nodemailer", "validator", "joi", "ajv", "yup", "jszip", "pdfkit", "exceljs", "immutable",
    "rxjs", "backbone", "jquery", "zepto", "knockout", "vue", "angular", "ember-source", "socket.io-client",
    "request", "tough-cookie", "form-data", "mime", "qs", "iconv-lite", "xml2js", "sax", "js-yaml", "yaml",
    "papaparse", "csv-parse", "dompurify", "sanitize-html", "quill", "codemirror", "chart.js", "echarts",
    "vis-network", "cytoscape", "sigma", "graphlib", "dagre", "tinymce", "video.js", "howler", "tone",
)


def file_stem(name: str) -> str:
    """`npm pack` names `@scope/pkg` version 1.2.3 `scope-pkg-1.2.3.tgz`."""
    return name.lstrip("@").replace("/", "-")


def archive_owner(filename: str) -> str | None:
    m = re.fullmatch(r"(.+?)-\d[^/]*\.tgz", filename)
    return m.group(1) if m else None


def _pack(names: list[str], into: Path) -> None:
    run(["npm", "pack", "--silent", "--pack-destination", str(into), *names], cwd=into)


def units(cache: Path, languages: Iterable[str], path: Path | None = None,
          packages: Iterable[str] = PACKAGES) -> list[Unit]:
    """One unit per package: from the registry, or from the `npm pack` tarballs in `path`."""
    if "javascript" not in set(languages):
        return []
    cache = Path(cache) / "npm"
    if path is not None:
        # An offline mirror: every tarball there is one package, named after its file.
        names = [archive_owner(p.name) for p in sorted(Path(path).glob("*.tgz")) if archive_owner(p.name)]
        downloads = Downloads(Path(path), _pack, archive_owner, names, key=file_stem)
    else:
        names = list(packages)
        downloads = Downloads(cache / "tarballs", _pack, archive_owner, names, key=file_stem)

    def unit(name: str) -> Unit:
        scratch = cache / "unpacked" / file_stem(name)
        return Unit(f"npm/{name}", lambda: [(f"npm/{name}", unpack(downloads.get(name)[-1], scratch))],
                    language="javascript", scratch=scratch)

    return [unit(name) for name in names]
