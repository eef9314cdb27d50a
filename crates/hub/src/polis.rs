//! Pol.is import (being written).
