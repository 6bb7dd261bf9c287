#pragma once

#include <QByteArray>
#include <QList>
#include <QPersistentModelIndex>
#include <QTreeView>

namespace quire {

// The collection list. Accepts local files and folders dropped onto a collection (they go
// into that one) or onto empty space (the window asks for a new collection's name).
class CollectionView final : public QTreeView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CollectionView)
public:
    explicit CollectionView(QWidget *parent = nullptr);
    ~CollectionView() override;

    qint64 currentCollectionId() const;
    // Selects the collection's row; false when it is not (yet) in the model.
    bool selectCollection(qint64 id);

Q_SIGNALS:
    // collectionId is 0 for a drop onto empty space.
    void pathsDropped(qint64 collectionId, const QList<QByteArray> &paths);
    void currentCollectionChanged(qint64 collectionId);

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dragMoveEvent(QDragMoveEvent *event) override;
    void dragLeaveEvent(QDragLeaveEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void paintEvent(QPaintEvent *event) override;
    void currentChanged(const QModelIndex &current, const QModelIndex &previous) override;

private:
    void setDropTarget(const QModelIndex &index, bool active);

    bool m_dragActive = false;
    QPersistentModelIndex m_dropTarget;
    qint64 m_lastEmitted = -1;
};

} // namespace quire
