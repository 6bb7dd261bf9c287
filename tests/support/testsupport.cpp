#include "testsupport.h"

namespace quire::test {

QString quireBinary()
{
    return QStringLiteral(QUIRE_BINARY);
}

} // namespace quire::test
