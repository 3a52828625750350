package fields

import (
	"errors"
	"fmt"
	"time"
)

// Date is a calendar date without a time of day or location (Django's DateField). It is
// stored as a BSON date at midnight UTC.
//
// The zero Date is January 1 of year 1, the same instant as the zero time.Time, so a
// stored 0001-01-01 loads as Date{}.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return normDate(y, m, d)
}

// Today returns the current date in UTC.
func Today() Date { return DateOf(time.Now().UTC()) }

// normDate maps 0001-01-01 to the zero Date so both spellings of the zero date agree.
func normDate(y int, m time.Month, d int) Date {
	if y == 1 && m == time.January && d == 1 {
		return Date{}
	}
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses a date written as YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// IsZero reports whether d is the zero date.
func (d Date) IsZero() bool {
	return d == Date{} || (d.Year == 1 && d.Month == time.January && d.Day == 1)
}

// IsValid reports whether d names a real day (February 30 does not). The zero Date is
// valid.
func (d Date) IsValid() bool {
	if d.IsZero() {
		return true
	}
	y, m, dd := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time {
	if d.IsZero() {
		return time.Time{}
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// In returns midnight at the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	if d.IsZero() {
		return time.Date(1, time.January, 1, 0, 0, 0, 0, loc)
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns d plus n days.
func (d Date) AddDays(n int) Date { return DateOf(d.Time().AddDate(0, 0, n)) }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int { return d.Time().Compare(o.Time()) }

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return "0001-01-01"
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText formats d as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// TimeOfDay is a time of day with microsecond precision (Django's TimeField), counted in
// microseconds since midnight and stored as that int64. Valid values lie in
// [0, 24h); the zero value is midnight.
type TimeOfDay int64

// Microseconds in a day: the exclusive upper bound of a valid TimeOfDay.
const microsPerDay = 24 * 60 * 60 * 1_000_000

// NewTimeOfDay returns the time of day hour:min:sec.usec. Out-of-range parts give an
// invalid value (see IsValid), not a wrapped one.
func NewTimeOfDay(hour, min, sec, usec int) TimeOfDay {
	return TimeOfDay(((int64(hour)*60+int64(min))*60+int64(sec))*1_000_000 + int64(usec))
}

// TimeOfDayOf returns the time of day of t in t's location, truncated to the microsecond.
func TimeOfDayOf(t time.Time) TimeOfDay {
	return NewTimeOfDay(t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1000)
}

var errTimeSyntax = errors.New("want HH:MM, HH:MM:SS or HH:MM:SS.ffffff")

// ParseTimeOfDay parses HH:MM, HH:MM:SS or HH:MM:SS.ffffff (1 to 6 fraction digits).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	bad := func() (TimeOfDay, error) { return 0, fmt.Errorf("invalid time of day %q: %w", s, errTimeSyntax) }
	num := func(p string) (int, bool) {
		if len(p) != 2 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' {
			return 0, false
		}
		return int(p[0]-'0')*10 + int(p[1]-'0'), true
	}
	if len(s) < 5 || s[2] != ':' {
		return bad()
	}
	h, ok1 := num(s[0:2])
	m, ok2 := num(s[3:5])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return bad()
	}
	sec, usec := 0, 0
	rest := s[5:]
	if rest != "" {
		if rest[0] != ':' || len(rest) < 3 {
			return bad()
		}
		var ok bool
		if sec, ok = num(rest[1:3]); !ok || sec > 59 {
			return bad()
		}
		rest = rest[3:]
		if rest != "" {
			if rest[0] != '.' || len(rest) < 2 || len(rest) > 7 {
				return bad()
			}
			frac := rest[1:]
			for i := 0; i < 6; i++ {
				usec *= 10
				if i < len(frac) {
					c := frac[i]
					if c < '0' || c > '9' {
						return bad()
					}
					usec += int(c - '0')
				}
			}
		}
	}
	return NewTimeOfDay(h, m, sec, usec), nil
}

// IsValid reports whether t lies in [00:00, 24:00).
func (t TimeOfDay) IsValid() bool { return t >= 0 && t < microsPerDay }

// Hour returns the hour, 0–23 for a valid value.
func (t TimeOfDay) Hour() int { return int(int64(t) / 3_600_000_000) }

// Minute returns the minute, 0–59 for a valid value.
func (t TimeOfDay) Minute() int { return int(int64(t) / 60_000_000 % 60) }

// Second returns the second, 0–59 for a valid value.
func (t TimeOfDay) Second() int { return int(int64(t) / 1_000_000 % 60) }

// Microsecond returns the microsecond, 0–999999 for a valid value.
func (t TimeOfDay) Microsecond() int { return int(int64(t) % 1_000_000) }

// On returns the instant at time of day t on date d in loc.
func (t TimeOfDay) On(d Date, loc *time.Location) time.Time {
	return d.In(loc).Add(time.Duration(t) * time.Microsecond)
}

// String formats t as HH:MM:SS, or HH:MM:SS.ffffff when it has a fraction.
func (t TimeOfDay) String() string {
	if !t.IsValid() {
		return fmt.Sprintf("TimeOfDay(%d)", int64(t))
	}
	if us := t.Microsecond(); us != 0 {
		return fmt.Sprintf("%02d:%02d:%02d.%06d", t.Hour(), t.Minute(), t.Second(), us)
	}
	return fmt.Sprintf("%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
}

// MarshalText formats t like String.
func (t TimeOfDay) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses what ParseTimeOfDay accepts.
func (t *TimeOfDay) UnmarshalText(b []byte) error {
	v, err := ParseTimeOfDay(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
