package expr

import (
	"fmt"
	"math"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// $dateFromString follows MongoDB's date library (timelib): with a format, each specifier
// reads a bounded number of digits and literals must match exactly; without one, a
// string is parsed by a grammar covering the forms people write (ISO 8601 dates and
// times, American and European numeric dates, English month names, 12-hour clocks, UTC
// offsets and zone abbreviations). Strings outside that grammar are conversion failures,
// which onError can catch.

// dsUnset marks a field the date string did not set.
const dsUnset = math.MinInt64

// parsedDate holds the fields a date string set; the others are dsUnset.
type parsedDate struct {
	y, m, d, h, i, s, us int64
	zoneType             int   // 0: none, 1: UTC offset, 2: abbreviation
	zoneOffset           int64 // seconds east of UTC, for zoneType 1 and 2
	abbr                 string
}

func newParsedDate() parsedDate {
	return parsedDate{y: dsUnset, m: dsUnset, d: dsUnset, h: dsUnset, i: dsUnset, s: dsUnset, us: dsUnset}
}

func dfsFailure(format string, args ...any) error {
	return mongoerr.Newf(mongoerr.ConversionFailure, format, args...)
}

func dfsParseFailure(str, reason string) error {
	return dfsFailure("Error parsing date string '%s'; %s", str, reason)
}

// dateFromStringNode is {$dateFromString: {dateString, format, timezone, onNull, onError}}.
type dateFromStringNode struct {
	dateString, format, onNull, onError node
	tz                                  timezoneArg
}

func parseDateFromString(args any, sc *scope) (node, error) {
	d, ok := sdNamedArgs(args)
	if !ok {
		return nil, mongoerr.Newf(40540, "$dateFromString only supports an object as an argument, found: %s", typeName(args))
	}
	n := &dateFromStringNode{}
	var tzNode node
	for _, e := range d {
		var dst *node
		switch e.Key {
		case "dateString":
			dst = &n.dateString
		case "format":
			dst = &n.format
		case "timezone":
			dst = &tzNode
		case "onNull":
			dst = &n.onNull
		case "onError":
			dst = &n.onError
		default:
			return nil, mongoerr.Newf(40541, "Unrecognized argument to $dateFromString: %s", e.Key)
		}
		p, err := parse(e.Value, sc)
		if err != nil {
			return nil, err
		}
		*dst = p
	}
	if n.dateString == nil {
		return nil, mongoerr.Newf(40542, "Missing 'dateString' parameter to $dateFromString")
	}
	var err error
	if n.tz, err = compileTimezone(tzNode, sdAllConstant(n.dateString, n.format, tzNode, n.onNull, n.onError)); err != nil {
		return nil, err
	}
	return sdFold(n, n.dateString, n.format, tzNode, n.onNull, n.onError)
}

func (n *dateFromStringNode) eval(c *ctx) (any, error) {
	str, err := n.dateString.eval(c)
	if err != nil {
		return nil, err
	}
	format, err := evalDateFormat(c, n.format, "$dateFromString", 40684, fromStringSpecifiers)
	if err != nil {
		return nil, err
	}
	z, err := n.tz.resolve(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(str) {
		if n.onNull != nil {
			return n.onNull.eval(c)
		}
		return nil, nil
	}
	res, err := n.convert(str, format, z)
	if err != nil && n.onError != nil && mongoerr.HasCode(err, mongoerr.ConversionFailure) {
		return n.onError.eval(c)
	}
	return res, err
}

func (n *dateFromStringNode) convert(str, format any, z *tzone) (any, error) {
	s, ok := str.(string)
	if !ok {
		return nil, dfsFailure("$dateFromString requires that 'dateString' be a string, found: %s with value %s", typeName(str), sdRender(str))
	}
	if z == nil {
		return nil, nil
	}
	var pd parsedDate
	var err error
	if n.format != nil {
		if value.IsNullish(format) {
			return nil, nil
		}
		pd, err = parseWithFormat(s, format.(string))
	} else {
		pd, err = parseFreeForm(s)
	}
	if err != nil {
		return nil, err
	}
	ms, err := pd.toMillis(s, z)
	if err != nil {
		return nil, err
	}
	return bson.DateTime(ms), nil
}

// toMillis completes a parsed date as MongoDB does and converts it to an instant.
func (p *parsedDate) toMillis(str string, z *tzone) (int64, error) {
	if p.h == dsUnset && p.i == dsUnset && p.s == dsUnset {
		p.h, p.i, p.s, p.us = 0, 0, 0, 0
	}
	if p.y == dsUnset || p.m == dsUnset || p.d == dsUnset || p.h == dsUnset || p.i == dsUnset || p.s == dsUnset {
		return 0, dfsFailure("an incomplete date/time string has been found, with elements missing: \"%s\"", str)
	}
	if p.us == dsUnset {
		p.us = 0
	}
	if !z.isUTC() {
		switch p.zoneType {
		case 1:
			return 0, dfsFailure("you cannot pass in a date/time string with GMT offset together with a timezone argument")
		case 2:
			return 0, dfsFailure("you cannot pass in a date/time string with time zone information ('%s') together with a timezone argument", p.abbr)
		}
	}
	days := monthStartDays(p.y, p.m) + p.d - 1
	wall := days*86400 + p.h*3600 + p.i*60 + p.s + sdFloorDiv(p.us, 1000000)
	us := sdFloorMod(p.us, 1000000)
	var sec int64
	if p.zoneType != 0 {
		sec = wall - p.zoneOffset
	} else {
		sec = z.localToUTC(wall)
	}
	// MongoDB adds the microseconds to the seconds and truncates toward zero.
	total := sec*1000000 + us
	return total / 1000, nil
}

// dsScanner reads a date string byte by byte.
type dsScanner struct {
	s   string
	pos int
}

// newDsScanner returns a scanner for a format-driven parse, where a NUL byte ends the
// string as it does for the C library MongoDB uses.
func newDsScanner(s string) *dsScanner {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return &dsScanner{s: s}
}

func (sc *dsScanner) eof() bool  { return sc.pos >= len(sc.s) }
func (sc *dsScanner) peek() byte { return sc.at(sc.pos) }
func (sc *dsScanner) at(i int) byte {
	if i < len(sc.s) {
		return sc.s[i]
	}
	return 0
}

func dsIsDigit(b byte) bool { return b >= '0' && b <= '9' }
func dsIsAlpha(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

// number reads up to max digits at the current position; ok=false if there is none.
func (sc *dsScanner) number(max int) (int64, int, bool) {
	start := sc.pos
	var n int64
	for sc.pos < len(sc.s) && sc.pos-start < max && dsIsDigit(sc.s[sc.pos]) {
		n = n*10 + int64(sc.s[sc.pos]-'0')
		sc.pos++
	}
	return n, sc.pos - start, sc.pos > start
}

// skipToNumber skips non-digits, as timelib's number reader does for specifiers that do
// not first check for a digit.
func (sc *dsScanner) skipToNumber(max int) (int64, bool) {
	for sc.pos < len(sc.s) && !dsIsDigit(sc.s[sc.pos]) {
		sc.pos++
	}
	n, _, ok := sc.number(max)
	return n, ok
}

func (sc *dsScanner) word() string {
	start := sc.pos
	for sc.pos < len(sc.s) && dsIsAlpha(sc.s[sc.pos]) {
		sc.pos++
	}
	return sc.s[start:sc.pos]
}

var monthLookup = map[string]int64{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
	"sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
	"january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
	"august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9,
	"x": 10, "xi": 11, "xii": 12,
}

// zoneAbbreviations maps the zone abbreviations understood in date strings to their
// offsets from UTC in seconds (daylight-saving abbreviations include the extra hour).
var zoneAbbreviations = map[string]int64{
	"utc": 0, "gmt": 0, "ut": 0, "wet": 0, "west": 3600, "bst": 3600, "cet": 3600,
	"cest": 7200, "met": 3600, "mest": 7200, "eet": 7200, "eest": 10800, "msk": 10800,
	"est": -18000, "edt": -14400, "cst": -21600, "cdt": -18000, "mst": -25200,
	"mdt": -21600, "pst": -28800, "pdt": -25200, "akst": -32400, "akdt": -28800,
	"hst": -36000, "ast": -14400, "adt": -10800, "nst": -12600, "ndt": -9000,
	"jst": 32400, "kst": 32400, "hkt": 28800, "sgt": 28800, "awst": 28800,
	"acst": 34200, "acdt": 37800, "aest": 36000, "aedt": 39600, "nzst": 43200,
	"nzdt": 46800, "sast": 7200,
}

// militaryZone returns the offset of a single-letter military time zone.
func militaryZone(c byte) (int64, bool) {
	c |= 0x20
	switch {
	case c >= 'a' && c <= 'i':
		return int64(c-'a'+1) * 3600, true
	case c >= 'k' && c <= 'm':
		return int64(c-'k'+10) * 3600, true
	case c >= 'n' && c <= 'y':
		return -int64(c-'n'+1) * 3600, true
	case c == 'z':
		return 0, true
	}
	return 0, false
}

// parseZone reads a zone at the current position as timelib does: a "+hh:mm"-style
// offset (optionally after "GMT"), or an abbreviation.
func (sc *dsScanner) parseZone(p *parsedDate) error {
	for sc.peek() == ' ' || sc.peek() == '\t' || sc.peek() == '(' {
		sc.pos++
	}
	if strings.HasPrefix(sc.s[sc.pos:], "GMT") && (sc.at(sc.pos+3) == '+' || sc.at(sc.pos+3) == '-') {
		sc.pos += 3
	}
	switch sc.peek() {
	case '+', '-':
		sign := int64(1)
		if sc.peek() == '-' {
			sign = -1
		}
		sc.pos++
		off, ok := sc.offsetCorrection()
		if !ok {
			return fmt.Errorf("the timezone could not be found in the database")
		}
		p.zoneType, p.zoneOffset = 1, sign*off
	default:
		start := sc.pos
		for sc.pos < len(sc.s) {
			b := sc.s[sc.pos]
			if !(dsIsAlpha(b) || dsIsDigit(b) || b == '/' || b == '_' || b == '-' || b == '+') {
				break
			}
			sc.pos++
		}
		w := sc.s[start:sc.pos]
		lw := strings.ToLower(w)
		off, ok := zoneAbbreviations[lw]
		if !ok && len(w) == 1 {
			off, ok = militaryZone(w[0])
		}
		if !ok {
			if strings.Contains(w, "/") {
				return fmt.Errorf("passing a time zone identifier as part of the string is not allowed")
			}
			return fmt.Errorf("the timezone could not be found in the database")
		}
		p.zoneType, p.zoneOffset, p.abbr = 2, off, strings.ToUpper(w)
	}
	for sc.peek() == ')' {
		sc.pos++
	}
	return nil
}

// offsetCorrection reads the digits and colons of a UTC offset: h, hh, h:mm, hh:mm, hhmm.
func (sc *dsScanner) offsetCorrection() (int64, bool) {
	start := sc.pos
	for sc.pos < len(sc.s) && (dsIsDigit(sc.s[sc.pos]) || sc.s[sc.pos] == ':') {
		sc.pos++
	}
	t := sc.s[start:sc.pos]
	num := func(x string) int64 {
		var n int64
		for i := 0; i < len(x) && dsIsDigit(x[i]); i++ {
			n = n*10 + int64(x[i]-'0')
		}
		return n
	}
	switch len(t) {
	case 1, 2:
		if strings.Contains(t, ":") {
			return 0, false
		}
		return num(t) * 3600, true
	case 3, 4:
		switch {
		case t[1] == ':':
			return num(t)*3600 + num(t[2:])*60, true
		case t[2] == ':':
			return num(t)*3600 + num(t[3:])*60, true
		case strings.Contains(t, ":"):
			return 0, false
		}
		n := num(t)
		return n/100*3600 + n%100*60, true
	case 5:
		if t[2] != ':' {
			return 0, false
		}
		return num(t)*3600 + num(t[3:])*60, true
	}
	return 0, false
}

// parseWithFormat parses s with a validated $dateFromString format.
func parseWithFormat(str, format string) (parsedDate, error) {
	p := newParsedDate()
	if i := strings.IndexByte(format, 0); i >= 0 {
		format = format[:i]
	}
	sc := newDsScanner(str)
	isoYear, isoWeek, isoDay := int64(dsUnset), int64(dsUnset), int64(dsUnset)
	fail := func(reason string) (parsedDate, error) { return p, dfsParseFailure(str, reason) }
	fi := 0
	for fi < len(format) && !sc.eof() {
		if format[fi] != '%' {
			if format[fi] != sc.peek() {
				return fail("Format literal not found")
			}
			fi++
			sc.pos++
			continue
		}
		fi++
		if fi == len(format) {
			return fail("Data missing")
		}
		spec := format[fi]
		fi++
		if spec == '%' {
			if sc.peek() != '%' {
				return fail("Format literal not found")
			}
			sc.pos++
			continue
		}
		needDigit := strings.IndexByte("dHjLmMSY", spec) >= 0
		if needDigit && !dsIsDigit(sc.peek()) {
			return fail("Unexpected data found.")
		}
		switch spec {
		case 'd':
			p.d, _, _ = sc.number(2)
		case 'm':
			p.m, _, _ = sc.number(2)
		case 'Y':
			p.y, _, _ = sc.number(4)
		case 'H':
			p.h, _, _ = sc.number(2)
		case 'M', 'S':
			n, l, _ := sc.number(2)
			if l != 2 {
				if spec == 'M' {
					return fail("A two digit minute could not be found")
				}
				return fail("A two digit second could not be found")
			}
			if spec == 'M' {
				p.i = n
			} else {
				p.s = n
			}
		case 'L':
			n, l, _ := sc.number(3)
			for ; l < 3; l++ {
				n *= 10
			}
			p.us = n * 1000
		case 'j':
			if p.y == dsUnset {
				return fail("A 'day of year' can only come after a year has been found")
			}
			n, _, _ := sc.number(3)
			// timelib counts the day of the year from zero here.
			p.y, p.m, p.d = normalizeYMD(p.y, 1, n+1)
		case 'b', 'B':
			m, ok := monthLookup[strings.ToLower(sc.word())]
			if !ok {
				return fail("A textual month could not be found")
			}
			p.m = m
		case 'G':
			n, ok := sc.skipToNumber(4)
			if !ok {
				return fail("A four digit ISO year could not be found")
			}
			isoYear = n
		case 'V':
			n, ok := sc.skipToNumber(2)
			if !ok {
				return fail("A two digit ISO week could not be found")
			}
			if n < 1 || n > 53 {
				return fail("ISO Week must be between 1 and 53")
			}
			isoWeek = n
		case 'u':
			n, ok := sc.skipToNumber(1)
			if !ok {
				return fail("A single digit day of week could not be found")
			}
			if n < 1 || n > 7 {
				return fail("Day of week must be between 1 and 7")
			}
			isoDay = n
		case 'z':
			if err := sc.parseZone(&p); err != nil {
				return fail(err.Error())
			}
		case 'Z':
			if strings.HasPrefix(sc.s[sc.pos:], "GMT") && (sc.at(sc.pos+3) == '+' || sc.at(sc.pos+3) == '-') {
				sc.pos += 3
			}
			sign := int64(1)
			switch sc.peek() {
			case '-':
				sign = -1
				fallthrough
			case '+':
				sc.pos++
				n, _, _ := sc.number(9)
				if dsIsDigit(sc.peek()) {
					return fail("Invalid timezone offset in minutes")
				}
				p.zoneType, p.zoneOffset = 1, sign*n*60
			default:
				return fail("Invalid timezone offset in minutes")
			}
		}
	}
	if !sc.eof() {
		return fail("Trailing data")
	}
	if fi < len(format) {
		return fail("Data missing")
	}
	if p.h != dsUnset || p.i != dsUnset || p.s != dsUnset || p.us != dsUnset {
		for _, f := range []*int64{&p.h, &p.i, &p.s, &p.us} {
			if *f == dsUnset {
				*f = 0
			}
		}
	}
	if p.y != dsUnset && (isoWeek != dsUnset || isoYear != dsUnset || isoDay != dsUnset) ||
		isoYear != dsUnset && (p.m != dsUnset || p.d != dsUnset) {
		return fail("Mixing of ISO dates with natural dates is not allowed")
	}
	if isoYear != dsUnset {
		if isoWeek == dsUnset {
			isoWeek = 1
		}
		if isoDay == dsUnset {
			isoDay = 1
		}
		y, m, d := civilFromDays(isoDateToDays(isoYear, isoWeek, isoDay))
		p.y, p.m, p.d = y, int64(m), int64(d)
	} else if isoWeek != dsUnset || isoDay != dsUnset {
		return fail("The parsed date was invalid")
	}
	return p, p.validate(str)
}

// validate rejects impossible times and dates, as MongoDB turns timelib's warnings
// about them into errors.
func (p *parsedDate) validate(str string) error {
	if p.h != dsUnset && p.i != dsUnset && p.s != dsUnset && (p.h < 0 || p.h > 23 || p.i < 0 || p.i > 59 || p.s < 0 || p.s > 59) {
		return dfsParseFailure(str, "The parsed time was invalid")
	}
	if p.y != dsUnset && p.m != dsUnset && p.d != dsUnset && (p.m < 1 || p.m > 12 || p.d < 1 || p.d > int64(civilDaysInMonth(p.y, int(p.m)))) {
		return dfsParseFailure(str, "The parsed date was invalid")
	}
	return nil
}

// normalizeYMD carries an out-of-range month or day into the following fields.
func normalizeYMD(y, m, d int64) (int64, int64, int64) {
	ny, nm, nd := civilFromDays(monthStartDays(y, m) + d - 1)
	return ny, int64(nm), int64(nd)
}

// parseFreeForm parses a date string without a format.
func parseFreeForm(str string) (parsedDate, error) {
	p := newParsedDate()
	s := strings.TrimFunc(str, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
	})
	if s == "" {
		return p, dfsParseFailure(str, "Empty string")
	}
	// The free-form parser reads a NUL byte like a blank.
	sc := &dsScanner{s: strings.ReplaceAll(s, "\x00", " ")}
	if !sc.parseDatePart(&p) {
		if sc.looksLikeTime() {
			return p, dfsFailure("an incomplete date/time string has been found, with elements missing: \"%s\"", str)
		}
		return p, dfsParseFailure(str, "Unexpected character")
	}
	// Time: after 'T' or blanks.
	if (sc.peek() == 'T' || sc.peek() == 't') && dsIsDigit(sc.at(sc.pos+1)) {
		sc.pos++
		if !sc.parseTimePart(&p) {
			return p, dfsParseFailure(str, "Unexpected character")
		}
	} else {
		save := sc.pos
		sc.skipBlanks()
		if sc.pos == save || !sc.parseTimePart(&p) {
			sc.pos = save
		}
	}
	// Zone.
	save := sc.pos
	sc.skipBlanks()
	if !sc.eof() {
		if sc.pos == save && !(sc.peek() == '+' || sc.peek() == '-' || sc.peek() == 'Z' || sc.peek() == 'z') {
			return p, dfsParseFailure(str, "Unexpected character")
		}
		if err := sc.parseZone(&p); err != nil {
			return p, dfsParseFailure(str, err.Error())
		}
		sc.skipBlanks()
	}
	if !sc.eof() {
		return p, dfsParseFailure(str, "Unexpected character")
	}
	return p, p.validate(str)
}

func (sc *dsScanner) skipBlanks() {
	for sc.peek() == ' ' || sc.peek() == '\t' || sc.peek() == ',' {
		sc.pos++
	}
}

// looksLikeTime reports whether the string starts with a clock time, which timelib
// parses but MongoDB then rejects as incomplete.
func (sc *dsScanner) looksLikeTime() bool {
	t := &dsScanner{s: sc.s}
	p := newParsedDate()
	return t.parseTimePart(&p) && (t.eof() || t.peek() == ' ')
}

// parseDatePart reads the calendar date at the start of the string.
func (sc *dsScanner) parseDatePart(p *parsedDate) bool {
	start := sc.pos
	if dsIsAlpha(sc.peek()) {
		return sc.parseTextualDate(p)
	}
	a, la, ok := sc.number(4)
	if !ok {
		return false
	}
	sep := sc.peek()
	switch {
	case la == 4 && (sep == '-' || sep == '/'):
		// YYYY-MM-DD, YYYY/MM/DD, YYYY-Mon-DD
		sc.pos++
		if sep == '-' && dsIsAlpha(sc.peek()) {
			m, ok := monthLookup[strings.ToLower(sc.word())]
			if !ok || sc.peek() != '-' {
				return false
			}
			sc.pos++
			d, _, ok := sc.number(2)
			if !ok {
				return false
			}
			p.y, p.m, p.d = a, m, d
			return true
		}
		m, _, ok := sc.number(2)
		if !ok || sc.peek() != sep {
			return false
		}
		sc.pos++
		d, _, ok := sc.number(2)
		if !ok {
			return false
		}
		p.y, p.m, p.d = a, m, d
		return true
	case la <= 2 && sep == '/':
		// American: MM/DD/YYYY or MM/DD/YY
		sc.pos++
		d, _, ok := sc.number(2)
		if !ok || sc.peek() != '/' {
			return false
		}
		sc.pos++
		y, ly, ok := sc.number(4)
		if !ok || ly == 3 {
			return false
		}
		p.y, p.m, p.d = processYear(y, ly), a, d
		return true
	case la <= 2 && (sep == '-' || sep == '.'):
		// DD-MM-YYYY, DD.MM.YYYY, DD.MM.YY, DD-Mon-YYYY
		sc.pos++
		var m int64
		if sep == '-' && dsIsAlpha(sc.peek()) {
			mm, ok := monthLookup[strings.ToLower(sc.word())]
			if !ok {
				return false
			}
			m = mm
		} else {
			mm, _, ok := sc.number(2)
			if !ok {
				return false
			}
			m = mm
		}
		if sc.peek() != sep {
			return false
		}
		sc.pos++
		y, ly, ok := sc.number(4)
		if !ok || ly == 3 || (sep == '-' && ly != 4) || (ly == 2 && sc.peek() == ':') {
			return false
		}
		p.y, p.m, p.d = processYear(y, ly), m, a
		return true
	case la <= 2 && (sep == ' ' || dsIsAlpha(sep)):
		// 4 July 2017, 4th July 2017
		sc.skipDaySuffix()
		sc.skipBlanks()
		m, ok := monthLookup[strings.ToLower(sc.word())]
		if !ok || m == 0 {
			sc.pos = start
			return false
		}
		sc.skipBlanks()
		y, ly, ok := sc.number(4)
		if !ok || ly != 4 {
			sc.pos = start
			return false
		}
		p.y, p.m, p.d = y, m, a
		return true
	}
	sc.pos = start
	return false
}

// parseTextualDate reads "July 4, 2017", "Jul 4th 2017" and the like.
func (sc *dsScanner) parseTextualDate(p *parsedDate) bool {
	m, ok := monthLookup[strings.ToLower(sc.word())]
	if !ok {
		return false
	}
	sc.skipBlanks()
	if sc.peek() == '.' {
		sc.pos++
		sc.skipBlanks()
	}
	d, _, ok := sc.number(2)
	if !ok {
		return false
	}
	sc.skipDaySuffix()
	sc.skipBlanks()
	y, ly, ok := sc.number(4)
	if !ok || ly != 4 {
		return false
	}
	p.y, p.m, p.d = y, m, d
	return true
}

func (sc *dsScanner) skipDaySuffix() {
	rest := strings.ToLower(sc.s[sc.pos:])
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if strings.HasPrefix(rest, suf) && !dsIsAlpha(sc.at(sc.pos+2)) {
			sc.pos += 2
			return
		}
	}
}

// processYear expands a two-digit year as timelib does: 70-99 are 19xx, 00-69 are 20xx.
func processYear(y int64, digits int) int64 {
	if digits > 2 {
		return y
	}
	if y < 70 {
		return y + 2000
	}
	return y + 1900
}

// parseTimePart reads hh:mm[:ss[.frac]] (':' or '.' between the fields), an hour with
// am/pm, "noon" or "midnight".
func (sc *dsScanner) parseTimePart(p *parsedDate) bool {
	start := sc.pos
	if dsIsAlpha(sc.peek()) {
		switch strings.ToLower(sc.word()) {
		case "noon":
			p.h, p.i, p.s, p.us = 12, 0, 0, 0
			return true
		case "midnight":
			p.h, p.i, p.s, p.us = 0, 0, 0, 0
			return true
		}
		sc.pos = start
		return false
	}
	h, _, ok := sc.number(2)
	if !ok {
		return false
	}
	var i, s, us int64
	if sep := sc.peek(); (sep == ':' || sep == '.') && dsIsDigit(sc.at(sc.pos+1)) {
		sc.pos++
		i, _, _ = sc.number(2)
		if sep := sc.peek(); (sep == ':' || sep == '.') && dsIsDigit(sc.at(sc.pos+1)) {
			sc.pos++
			s, _, _ = sc.number(2)
			if (sc.peek() == '.' || sc.peek() == ',') && dsIsDigit(sc.at(sc.pos+1)) {
				sc.pos++
				n, l, _ := sc.number(6)
				for ; l < 6; l++ {
					n *= 10
				}
				us = n
				for dsIsDigit(sc.peek()) {
					sc.pos++
				}
			}
		}
	} else if !sc.meridianFollows() {
		sc.pos = start
		return false
	}
	if sc.meridianFollows() {
		if h < 1 || h > 12 {
			sc.pos = start
			return false
		}
		for sc.peek() == ' ' || sc.peek() == '\t' {
			sc.pos++
		}
		pm := sc.peek()|0x20 == 'p'
		sc.pos++
		if sc.peek() == '.' {
			sc.pos++
		}
		sc.pos++ // 'm'
		if sc.peek() == '.' {
			sc.pos++
		}
		if h == 12 {
			h = 0
		}
		if pm {
			h += 12
		}
	}
	p.h, p.i, p.s, p.us = h, i, s, us
	return true
}

// meridianFollows reports whether "am", "pm", "a.m." or "p.m." comes next (after blanks).
func (sc *dsScanner) meridianFollows() bool {
	i := sc.pos
	for sc.at(i) == ' ' || sc.at(i) == '\t' {
		i++
	}
	c := sc.at(i) | 0x20
	if c != 'a' && c != 'p' {
		return false
	}
	i++
	if sc.at(i) == '.' {
		i++
	}
	if sc.at(i)|0x20 != 'm' {
		return false
	}
	i++
	if sc.at(i) == '.' {
		i++
	}
	return !dsIsAlpha(sc.at(i))
}
