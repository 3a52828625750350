package fields

// Kind is a Django field kind: what a model field is, independent of its Go type.
type Kind uint8

// The field kinds. Relation kinds (ForeignKey, OneToOneField, ManyToManyField) are added
// by the relations work.
const (
	Invalid Kind = iota

	// Primary keys the database (or modjo) assigns.
	ObjectIdAutoField // bson.ObjectID primary key of model.Model
	SmallAutoField    // int8/int16/uint8/uint16 primary key, allocated by modjo
	AutoField         // int32 primary key, allocated by modjo
	BigAutoField      // int/int64/uint32 primary key, allocated by modjo

	CharField             // string with max_length
	TextField             // string without max_length
	EmailField            // string with the email option
	URLField              // string with the url option
	SlugField             // string with the slug option
	GenericIPAddressField // string with the ip option

	SmallIntegerField         // int8, int16
	IntegerField              // int32
	BigIntegerField           // int, int64
	PositiveSmallIntegerField // uint8, uint16; int8, int16 with min_value ≥ 0
	PositiveIntegerField      // uint32; int32 with min_value ≥ 0
	PositiveBigIntegerField   // int, int64 with min_value ≥ 0
	FloatField                // float32, float64
	DecimalField              // bson.Decimal128, apd.Decimal
	BooleanField              // bool

	DateTimeField // time.Time
	DateField     // Date
	TimeField     // TimeOfDay
	DurationField // time.Duration

	UUIDField     // a type whose underlying type is [16]byte
	BinaryField   // []byte
	ObjectIdField // bson.ObjectID (not the primary key)
	JSONField     // map[string]any, any, JSON

	ArrayField                         // []T
	EmbeddedModelField                 // a struct embedding model.Embedded
	EmbeddedModelArrayField            // a slice of those
	PolymorphicEmbeddedModelField      // Polymorphic
	PolymorphicEmbeddedModelArrayField // []Polymorphic

	CompositePrimaryKey // the pk of a model with several primary_key fields
)

var kindNames = [...]string{
	Invalid:                            "Invalid",
	ObjectIdAutoField:                  "ObjectIdAutoField",
	SmallAutoField:                     "SmallAutoField",
	AutoField:                          "AutoField",
	BigAutoField:                       "BigAutoField",
	CharField:                          "CharField",
	TextField:                          "TextField",
	EmailField:                         "EmailField",
	URLField:                           "URLField",
	SlugField:                          "SlugField",
	GenericIPAddressField:              "GenericIPAddressField",
	SmallIntegerField:                  "SmallIntegerField",
	IntegerField:                       "IntegerField",
	BigIntegerField:                    "BigIntegerField",
	PositiveSmallIntegerField:          "PositiveSmallIntegerField",
	PositiveIntegerField:               "PositiveIntegerField",
	PositiveBigIntegerField:            "PositiveBigIntegerField",
	FloatField:                         "FloatField",
	DecimalField:                       "DecimalField",
	BooleanField:                       "BooleanField",
	DateTimeField:                      "DateTimeField",
	DateField:                          "DateField",
	TimeField:                          "TimeField",
	DurationField:                      "DurationField",
	UUIDField:                          "UUIDField",
	BinaryField:                        "BinaryField",
	ObjectIdField:                      "ObjectIdField",
	JSONField:                          "JSONField",
	ArrayField:                         "ArrayField",
	EmbeddedModelField:                 "EmbeddedModelField",
	EmbeddedModelArrayField:            "EmbeddedModelArrayField",
	PolymorphicEmbeddedModelField:      "PolymorphicEmbeddedModelField",
	PolymorphicEmbeddedModelArrayField: "PolymorphicEmbeddedModelArrayField",
	CompositePrimaryKey:                "CompositePrimaryKey",
}

// String returns the Django name of the kind, such as "CharField".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + itoa(int(k)) + ")"
}

// IsAuto reports whether the kind is a primary key assigned on insert.
func (k Kind) IsAuto() bool { return k >= ObjectIdAutoField && k <= BigAutoField }

// IsInteger reports whether values of the kind are integers (AutoFields included).
func (k Kind) IsInteger() bool {
	return (k >= SmallAutoField && k <= BigAutoField) || (k >= SmallIntegerField && k <= PositiveBigIntegerField)
}

// IsNumeric reports whether values of the kind are numbers.
func (k Kind) IsNumeric() bool { return k.IsInteger() || k == FloatField || k == DecimalField }

// IsString reports whether values of the kind are strings.
func (k Kind) IsString() bool { return k >= CharField && k <= GenericIPAddressField }

// IsTemporal reports whether the kind holds a date, a time or a date and time.
func (k Kind) IsTemporal() bool { return k == DateTimeField || k == DateField || k == TimeField }

// IsEmbedded reports whether the kind stores sub-documents of embedded models.
func (k Kind) IsEmbedded() bool {
	return k >= EmbeddedModelField && k <= PolymorphicEmbeddedModelArrayField
}

// IsArray reports whether the kind is stored as a BSON array.
func (k Kind) IsArray() bool {
	return k == ArrayField || k == EmbeddedModelArrayField || k == PolymorphicEmbeddedModelArrayField
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
