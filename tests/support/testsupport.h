#pragma once

#include <QString>

namespace quire::test {

// Path of the quire executable built alongside the tests.
QString quireBinary();

} // namespace quire::test
