#include "mainwindow.h"

#include <QLabel>

namespace quire {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
{
    setWindowTitle(tr("Quire"));
    auto *empty = new QLabel(tr("Drop documents here"), this);
    empty->setAlignment(Qt::AlignCenter);
    setCentralWidget(empty);
    resize(1000, 640);
}

MainWindow::~MainWindow() = default;

} // namespace quire
